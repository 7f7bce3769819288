// Starts the real `ikigai serve` binary on a free loopback port and stops it at the end of a test.
#include "support/server.hpp"

#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>
#include <signal.h>

#include "support/secrets.hpp"
#include "support/wait.hpp"

namespace ikigai::support {
namespace {

constexpr std::string_view kListeningPrefix = "listening on 127.0.0.1:";

// The last `max` bytes of a log, so that a failure message stays readable.
std::string Tail(const std::string& text, std::size_t max = std::size_t{16} * 1024) {
  if (text.size() <= max) return text;
  return "[... " + std::to_string(text.size() - max) + " bytes cut ...]\n" +
         text.substr(text.size() - max);
}

// The port from a complete "listening on 127.0.0.1:PORT\n" line, or 0.
int ParseListeningLine(const std::string& out) {
  auto pos = out.find(kListeningPrefix);
  if (pos == std::string::npos) return 0;
  auto start = pos + kListeningPrefix.size();
  auto end = out.find('\n', start);
  if (end == std::string::npos) return 0;  // not flushed completely yet
  std::string digits = out.substr(start, end - start);
  if (!digits.empty() && digits.back() == '\r') digits.pop_back();
  if (digits.empty() || digits.size() > 5 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return -1;
  }
  int port = std::stoi(digits);
  return (port > 0 && port < 65536) ? port : -1;
}

}  // namespace

Server::Server(Process process, TempDir log_dir, int port)
    : process_(std::move(process)), log_dir_(std::move(log_dir)), port_(port) {}

Server::~Server() {
  if (process_.Pid() <= 0) return;  // moved from
  if (process_.Running() && !stopped_) {
    int status = Stop();
    if (status != 0) {
      ADD_FAILURE() << "ikigai serve exited with status " << status << " after SIGTERM; its log:\n"
                    << Tail(StderrLog());
    }
  }
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- ikigai serve (port " << port_ << ") stderr ----\n"
              << Tail(StderrLog()) << "---- end of ikigai serve stderr ----\n";
  }
}

std::string Server::BaseUrl() const { return "http://127.0.0.1:" + std::to_string(port_); }

int Server::Stop(std::chrono::milliseconds timeout) {
  stopped_ = true;
  if (!process_.Running()) return process_.ExitStatus().value_or(255);
  process_.Signal(SIGTERM);
  if (auto status = process_.Wait(timeout)) {
    ExpectNoSecretsInLog("ikigai serve on port " + std::to_string(port_), StderrLog());
    return *status;
  }
  ADD_FAILURE() << "ikigai serve did not exit within " << timeout.count()
                << " ms of SIGTERM; killing it. Its log:\n"
                << Tail(StderrLog());
  return process_.Kill();
}

Server StartServer(ServerOptions options) {
  if (options.data_dir.empty()) throw std::invalid_argument("StartServer: data_dir is required");
  ProcessOptions process_options;
  process_options.binary = options.binary;
  process_options.args = {"serve", "--listen", "127.0.0.1:0", "--data-dir", options.data_dir};
  if (!options.database_url.empty()) {
    process_options.args.push_back("--database-url");
    process_options.args.push_back(options.database_url);
  }
  process_options.args.insert(process_options.args.end(), options.args.begin(), options.args.end());
  process_options.env = std::move(options.env);
  process_options.unset_env_prefixes = {"IKIGAI_"};
  TempDir log_dir("ikigai-serve-");
  process_options.output_dir = log_dir.Path();
  process_options.name = "ikigai";
  Process process(std::move(process_options));

  int port = 0;
  bool exited = false;
  bool ready = WaitUntil(
      [&] {
        port = ParseListeningLine(process.Stdout());
        if (port != 0) return true;
        exited = !process.Running();
        return exited;
      },
      options.start_timeout, std::chrono::milliseconds{5});
  if (ready && port > 0) return Server(std::move(process), std::move(log_dir), port);

  std::string why;
  if (port < 0) {
    why = "printed a malformed listening line";
  } else if (exited) {
    // It may have printed the line just before exiting; the exit is what matters.
    why = "exited with status " + std::to_string(process.ExitStatus().value_or(-1)) +
          " before listening";
  } else {
    why = "did not print \"listening on 127.0.0.1:PORT\" within " +
          std::to_string(options.start_timeout.count()) + " ms";
  }
  process.Kill();
  throw std::runtime_error("ikigai serve " + why + ".\nstdout:\n" + Tail(process.Stdout()) +
                           "\nstderr:\n" + Tail(process.Stderr()));
}

CommandResult RunIkigai(std::vector<std::string> args, std::map<std::string, std::string> env,
                        std::chrono::milliseconds timeout) {
  ProcessOptions options;
  options.binary = IKIGAI_BINARY;
  options.args = std::move(args);
  options.env = std::move(env);
  options.unset_env_prefixes = {"IKIGAI_"};
  options.name = "ikigai";
  return RunCommand(std::move(options), timeout);
}

}  // namespace ikigai::support
