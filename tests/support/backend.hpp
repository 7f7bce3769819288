// Which database back end an integration run uses (IKIGAI_TEST_BACKEND), and fresh databases on it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "support/mariadb.hpp"
#include "support/server.hpp"
#include "support/temp_dir.hpp"

namespace ikigai::support {

// "sqlite" (the default) or "mysql", from $IKIGAI_TEST_BACKEND. Anything else throws.
[[nodiscard]] std::string BackendName();
[[nodiscard]] inline bool UsingMysql() { return BackendName() == "mysql"; }

// The MariaDB shared by every test of this process, started on first use and stopped when the
// process exits (and killed with it if it crashes). Call it from the test's main thread first.
[[nodiscard]] MariaDbServer& SharedMariaDb();

// A database nobody has used: "sqlite://DIR/ikigai.db" for sqlite, a new database on the shared
// MariaDB for mysql.
[[nodiscard]] std::string FreshDatabaseUrl(const TempDir& dir);

// StartServer with data_dir = dir and a fresh database of the current back end.
[[nodiscard]] Server StartServerOnFreshDatabase(const TempDir& dir,
                                                std::map<std::string, std::string> env = {});

// One server on a fresh database, shared by the tests of a suite that only read: started by the
// first test that asks, restarted (with a test failure) if it died, stopped by Reset() from
// TearDownTestSuite. A failed start throws, failing the asking test only.
class SuiteServer {
 public:
  SuiteServer() = default;
  // `env`: extra environment for the server (see ServerOptions::env).
  explicit SuiteServer(std::map<std::string, std::string> env) : env_(std::move(env)) {}
  Server& Get();
  void Reset();

 private:
  std::map<std::string, std::string> env_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Server> server_;
};

}  // namespace ikigai::support
