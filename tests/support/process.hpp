// A child process for tests (the server, MariaDB, the SMTP sink) that cannot outlive the test.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "support/temp_dir.hpp"

namespace ikigai::support {

struct ProcessOptions {
  // Absolute or relative path, or a bare name looked up in $PATH.
  std::string binary;
  // Arguments after argv[0] (argv[0] is `binary`).
  std::vector<std::string> args;
  // Added to the inherited environment, overriding inherited values of the same name.
  std::map<std::string, std::string> env;
  // Inherited variables whose names start with one of these are dropped (variables in `env` are
  // kept), e.g. {"IKIGAI_"} so that a developer's shell settings cannot leak into a test.
  std::vector<std::string> unset_env_prefixes;
  // stdout and stderr go to "<output_dir>/<name>.stdout" and ".stderr". Default (empty): a private
  // temporary directory that lives as long as the Process.
  std::string output_dir;
  std::string name = "process";
};

// fork/exec with stdin from /dev/null. The child gets PR_SET_PDEATHSIG(SIGKILL), so it dies with
// the test process even when the test crashes (note: "parent" is the *thread* that spawned it, so
// spawn from a thread that outlives the child, normally the test's main thread). Only the pid this
// object started is ever signalled, and never after it was reaped. Move-only, not thread-safe.
class Process {
 public:
  // Throws std::runtime_error when the binary cannot be executed.
  explicit Process(ProcessOptions options);
  // SIGKILL and reap if still running.
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  [[nodiscard]] pid_t Pid() const { return pid_; }
  // False once the child has exited (reaps it).
  [[nodiscard]] bool Running();
  // Sends `sig` to the child; false (and nothing sent) when it was already reaped.
  bool Signal(int sig);
  // Waits up to `timeout` for the child to exit. The exit status is the exit code, or 128 + the
  // signal number when a signal ended it (shell convention); nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // SIGKILL and reap; returns the exit status (see Wait).
  int Kill();
  // The exit status if the child has been reaped.
  [[nodiscard]] std::optional<int> ExitStatus() const { return exit_status_; }

  [[nodiscard]] const std::string& StdoutPath() const { return stdout_path_; }
  [[nodiscard]] const std::string& StderrPath() const { return stderr_path_; }
  // Everything written so far.
  [[nodiscard]] std::string Stdout() const;
  [[nodiscard]] std::string Stderr() const;

 private:
  void Reap(int raw_status);
  void KillAndReap() noexcept;

  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::optional<TempDir> own_output_dir_;
  std::string stdout_path_;
  std::string stderr_path_;
};

// Waits up to `timeout` for the line "listening on 127.0.0.1:PORT" on the process's stdout (the
// test sinks print it once they accept connections). The port, or 0 when the process exited first
// or the time ran out.
[[nodiscard]] int AwaitListeningPort(Process& process, std::chrono::milliseconds timeout);

// Reads a whole file; empty when it does not exist.
[[nodiscard]] std::string ReadFile(const std::string& path);

// The result of running a command to completion.
struct CommandResult {
  // Exit status as Process::Wait gives it; nullopt when it did not finish within the timeout (it
  // was then killed).
  std::optional<int> exit_status;
  std::string out;
  std::string err;
};

// Runs a command to completion (killing it after `timeout`).
[[nodiscard]] CommandResult RunCommand(ProcessOptions options,
                                       std::chrono::milliseconds timeout = std::chrono::seconds{
                                           60});

}  // namespace ikigai::support
