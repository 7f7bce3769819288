// Which database back end an integration run uses (IKIGAI_TEST_BACKEND), and fresh databases on it.
#include "support/backend.hpp"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>

#include <gtest/gtest.h>

namespace ikigai::support {
namespace {

// Owns the shared MariaDB; a static destructor stops it when the test process exits normally
// (after RUN_ALL_TESTS, failures included). A crash or abort leaves that to PR_SET_PDEATHSIG.
struct SharedMariaDbHolder {
  std::mutex mutex;
  std::unique_ptr<MariaDbServer> server;
};

SharedMariaDbHolder& Holder() {
  static SharedMariaDbHolder holder;
  return holder;
}

}  // namespace

std::string BackendName() {
  const char* env = std::getenv("IKIGAI_TEST_BACKEND");
  std::string name = (env == nullptr || *env == '\0') ? "sqlite" : env;
  if (name != "sqlite" && name != "mysql") {
    throw std::invalid_argument("IKIGAI_TEST_BACKEND must be sqlite or mysql, not " + name);
  }
  return name;
}

MariaDbServer& SharedMariaDb() {
  auto& holder = Holder();
  std::lock_guard lock(holder.mutex);
  if (!holder.server) {
    // A failed start throws (failing this test) and the next caller tries again.
    holder.server = std::make_unique<MariaDbServer>();
    std::cerr << "[ MariaDB  ] shared test server on 127.0.0.1:" << holder.server->Port()
              << " (install " << holder.server->InstallTime().count() << " ms, start "
              << holder.server->StartTime().count() << " ms)\n";
  }
  return *holder.server;
}

std::string FreshDatabaseUrl(const TempDir& dir) {
  if (BackendName() == "mysql") return SharedMariaDb().CreateDatabase().url;
  return "sqlite://" + dir.File("ikigai.db");
}

Server StartServerOnFreshDatabase(const TempDir& dir, std::map<std::string, std::string> env) {
  ServerOptions options;
  options.data_dir = dir.Path();
  options.database_url = FreshDatabaseUrl(dir);
  options.env = std::move(env);
  return StartServer(std::move(options));
}

Server& SuiteServer::Get() {
  if (server_ && !server_->Running()) {
    ADD_FAILURE() << "the suite's server died (status " << server_->Stop()
                  << "); starting another. Its log:\n"
                  << server_->StderrLog();
    Reset();
  }
  if (!server_) {
    auto dir = std::make_unique<TempDir>();
    auto server = std::make_unique<Server>(StartServerOnFreshDatabase(*dir, env_));
    dir_ = std::move(dir);
    server_ = std::move(server);
  }
  return *server_;
}

void SuiteServer::Reset() {
  server_.reset();
  dir_.reset();
}

}  // namespace ikigai::support
