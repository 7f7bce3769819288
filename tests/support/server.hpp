// Starts the real `ikigai serve` binary on a free loopback port and stops it at the end of a test.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace ikigai::support {

struct ServerOptions {
  // Default: the binary this build made.
  std::string binary = IKIGAI_BINARY;
  // --data-dir; required.
  std::string data_dir;
  // --database-url; empty means none is passed (the server's default applies).
  std::string database_url;
  // Extra environment; inherited IKIGAI_* variables are dropped, so only these reach the server.
  std::map<std::string, std::string> env;
  // Extra arguments after the standard ones.
  std::vector<std::string> args;
  // How long to wait for "listening on 127.0.0.1:PORT" on stdout.
  std::chrono::milliseconds start_timeout = std::chrono::seconds{30};
};

// A running `ikigai serve --listen 127.0.0.1:0 --data-dir DIR --database-url URL ...`. The
// destructor stops it (Stop()) if it still runs; a hung or failed shutdown fails the current test.
// On a failed test the server's log is printed. Move-only.
class Server {
 public:
  Server(Process process, TempDir log_dir, int port);
  ~Server();
  Server(Server&&) noexcept = default;
  Server& operator=(Server&&) noexcept = default;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  [[nodiscard]] int Port() const { return port_; }
  // "http://127.0.0.1:PORT".
  [[nodiscard]] std::string BaseUrl() const;
  [[nodiscard]] pid_t Pid() const { return process_.Pid(); }
  [[nodiscard]] bool Running() { return process_.Running(); }
  // Everything the server wrote to stderr (its log) and stdout so far.
  [[nodiscard]] std::string StderrLog() const { return process_.Stderr(); }
  [[nodiscard]] std::string StdoutLog() const { return process_.Stdout(); }

  // Sends a signal to the server process (only while it runs).
  bool Signal(int sig) { return process_.Signal(sig); }
  // Waits for the process to exit by itself; nullopt on timeout. Exit status as Process::Wait.
  std::optional<int> Wait(std::chrono::milliseconds timeout) { return process_.Wait(timeout); }
  // SIGTERM, then waits up to `timeout`. A hang fails the current test (with the log) and the
  // server is then killed. Returns the exit status; the previous one if it had already exited.
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds{15});
  // SIGKILL and reap (crash simulation). Returns the exit status (137).
  int Kill9() { return process_.Kill(); }

 private:
  Process process_;
  TempDir log_dir_;
  int port_ = 0;
  bool stopped_ = false;
};

// Starts the server and waits for its "listening on 127.0.0.1:PORT" line. Throws
// std::runtime_error (which fails the test) with the server's stderr when it exits early or does
// not listen within options.start_timeout.
[[nodiscard]] Server StartServer(ServerOptions options);

// Runs `ikigai ARGS...` to completion with the given extra environment (inherited IKIGAI_*
// variables dropped); for commands that exit (migrate, version, a serve that must refuse to start).
[[nodiscard]] CommandResult RunIkigai(std::vector<std::string> args,
                                      std::map<std::string, std::string> env = {},
                                      std::chrono::milliseconds timeout = std::chrono::seconds{60});

}  // namespace ikigai::support
