// A child process for tests (the server, MariaDB, the SMTP sink) that cannot outlive the test.
#include "support/process.hpp"

#include "support/wait.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace ikigai::support {
namespace {

std::string ResolveBinary(const std::string& binary) {
  if (binary.find('/') != std::string::npos) return binary;
  const char* path_env = std::getenv("PATH");
  std::string path = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) dir = ".";
    std::string candidate = dir;
    candidate.append("/").append(binary);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return binary;
}

std::vector<std::string> BuildEnvironment(const ProcessOptions& options) {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view var(*entry);
    std::string_view name = var.substr(0, var.find('='));
    if (options.env.count(std::string(name)) != 0) continue;
    bool dropped = std::any_of(
        options.unset_env_prefixes.begin(), options.unset_env_prefixes.end(),
        [&](const std::string& prefix) { return name.substr(0, prefix.size()) == prefix; });
    if (!dropped) env.emplace_back(var);
  }
  for (const auto& [name, value] : options.env)
    env.push_back(std::string(name).append("=").append(value));
  return env;
}

int OpenOrThrow(const std::string& path, int flags) {
  int fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("open(" + path + ") failed: " + std::strerror(errno));
  return fd;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int Get() const { return fd_; }
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

}  // namespace

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

Process::Process(ProcessOptions options) {
  std::string dir = options.output_dir;
  if (dir.empty()) {
    own_output_dir_.emplace("ikigai-proc-");
    dir = own_output_dir_->Path();
  }
  stdout_path_ = dir + "/" + options.name + ".stdout";
  stderr_path_ = dir + "/" + options.name + ".stderr";

  // Everything the child needs is prepared before fork: between fork and exec a multi-threaded
  // parent's child may only call async-signal-safe functions.
  std::string binary = ResolveBinary(options.binary);
  std::vector<std::string> args;
  args.push_back(options.binary);
  args.insert(args.end(), options.args.begin(), options.args.end());
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = BuildEnvironment(options);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& var : env) envp.push_back(var.data());
  envp.push_back(nullptr);

  Fd in(OpenOrThrow("/dev/null", O_RDONLY));
  Fd out(OpenOrThrow(stdout_path_, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND));
  Fd err(OpenOrThrow(stderr_path_, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND));
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2 failed: ") + std::strerror(errno));
  }
  Fd report_read(report[0]);
  Fd report_write(report[1]);

  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) (void)signal(sig, SIG_DFL);
    dup2(in.Get(), STDIN_FILENO);
    dup2(out.Get(), STDOUT_FILENO);
    dup2(err.Get(), STDERR_FILENO);
    // Leave no inherited descriptor (sockets of the test, other children's pipes) open in the
    // child, except the exec report pipe which is close-on-exec anyway.
    int keep = report_write.Get();
    if (keep > 3) syscall(SYS_close_range, 3U, static_cast<unsigned>(keep - 1), 0U);
    syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0U, 0U);
    execve(binary.c_str(), argv.data(), envp.data());
    int error = errno;
    ssize_t ignored = write(keep, &error, sizeof error);
    (void)ignored;
    _exit(127);
  }
  pid_ = pid;
  report_write.Reset();
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(report_read.Get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int raw = 0;
    waitpid(pid_, &raw, 0);
    pid_ = -1;
    throw std::runtime_error("cannot execute " + binary + ": " + std::strerror(child_errno));
  }
}

Process::~Process() { KillAndReap(); }

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      exit_status_(std::exchange(other.exit_status_, std::nullopt)),
      own_output_dir_(std::move(other.own_output_dir_)),
      stdout_path_(std::move(other.stdout_path_)),
      stderr_path_(std::move(other.stderr_path_)) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    KillAndReap();
    pid_ = std::exchange(other.pid_, -1);
    exit_status_ = std::exchange(other.exit_status_, std::nullopt);
    own_output_dir_ = std::move(other.own_output_dir_);
    stdout_path_ = std::move(other.stdout_path_);
    stderr_path_ = std::move(other.stderr_path_);
  }
  return *this;
}

void Process::Reap(int raw_status) {
  if (WIFEXITED(raw_status)) {
    exit_status_ = WEXITSTATUS(raw_status);
  } else if (WIFSIGNALED(raw_status)) {
    exit_status_ = 128 + WTERMSIG(raw_status);
  } else {
    exit_status_ = 255;
  }
}

bool Process::Running() {
  if (pid_ <= 0 || exit_status_) return false;
  int raw = 0;
  pid_t r = waitpid(pid_, &raw, WNOHANG);
  if (r == pid_) {
    Reap(raw);
    return false;
  }
  return r == 0;
}

bool Process::Signal(int sig) {
  if (!Running()) return false;
  // The child is not reaped yet (at worst a zombie), so its pid cannot have been reused.
  return kill(pid_, sig) == 0;
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds{1};
  while (true) {
    if (!Running()) return exit_status_;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::milliseconds{20});
  }
}

int Process::Kill() {
  KillAndReap();
  return exit_status_.value_or(255);
}

void Process::KillAndReap() noexcept {
  if (pid_ <= 0 || exit_status_) return;
  kill(pid_, SIGKILL);
  int raw = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &raw, 0);
  } while (r < 0 && errno == EINTR);
  if (r == pid_)
    Reap(raw);
  else
    exit_status_ = 255;
}

std::string Process::Stdout() const { return ReadFile(stdout_path_); }

std::string Process::Stderr() const { return ReadFile(stderr_path_); }

CommandResult RunCommand(ProcessOptions options, std::chrono::milliseconds timeout) {
  Process process(std::move(options));
  CommandResult result;
  result.exit_status = process.Wait(timeout);
  if (!result.exit_status) process.Kill();
  result.out = process.Stdout();
  result.err = process.Stderr();
  return result;
}

int AwaitListeningPort(Process& process, std::chrono::milliseconds timeout) {
  const std::string prefix = "listening on 127.0.0.1:";
  int port = 0;
  (void)WaitUntil(
      [&] {
        const std::string out = process.Stdout();
        const auto pos = out.find(prefix);
        if (pos != std::string::npos && out.find('\n', pos) != std::string::npos) {
          port = std::stoi(out.substr(pos + prefix.size()));
          return true;
        }
        return !process.Running();
      },
      timeout, std::chrono::milliseconds{5});
  return port;
}

}  // namespace ikigai::support
