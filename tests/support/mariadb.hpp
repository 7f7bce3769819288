// A private MariaDB server for tests: its own data directory and loopback port, nothing else.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

struct st_mysql;

namespace ikigai::support {

// One libmariadb connection. Move-only, not thread-safe (one per thread).
class MariaDbConnection {
 public:
  using Row = std::vector<std::optional<std::string>>;

  // Connects over TCP when `socket` is empty, else over the unix socket. `database` may be empty.
  // Throws std::runtime_error with the client's error message.
  MariaDbConnection(const std::string& host, int port, const std::string& socket,
                    const std::string& user, const std::string& password,
                    const std::string& database,
                    std::chrono::seconds connect_timeout = std::chrono::seconds{5});
  ~MariaDbConnection();
  MariaDbConnection(MariaDbConnection&& other) noexcept;
  MariaDbConnection& operator=(MariaDbConnection&& other) noexcept;
  MariaDbConnection(const MariaDbConnection&) = delete;
  MariaDbConnection& operator=(const MariaDbConnection&) = delete;

  // Runs one or more ';'-separated statements, discarding any result. Throws on error.
  void Exec(std::string_view sql);
  // The rows of the (first) result. Throws on error.
  std::vector<Row> Query(std::string_view sql);
  // The first column of the first row; nullopt for NULL or no row.
  std::optional<std::string> Scalar(std::string_view sql);

 private:
  void Close() noexcept;

  st_mysql* mysql_ = nullptr;
};

struct MariaDbDatabase {
  std::string name;
  // mysql://ikigai:PASS@127.0.0.1:PORT/NAME
  std::string url;
};

// mariadb-install-db into a temporary directory, then mariadbd on a free loopback port with small
// buffers and no binary log. A user `ikigai`@`127.0.0.1` with every privilege (WITH GRANT OPTION)
// and a random password is what tests and the server use. The process gets PR_SET_PDEATHSIG, so it
// dies with the test process; the destructor stops it. Not movable.
class MariaDbServer {
 public:
  // Installs and starts; throws std::runtime_error (with the error log) on failure.
  MariaDbServer();
  ~MariaDbServer();
  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;

  // Starts again after Stop(), on the same port and data directory (for outage tests); waits until
  // a connection succeeds. No-op when running.
  void Start();
  // SIGTERM to the mariadbd this object started, then waits for it to exit (SIGKILL after 60 s).
  void Stop();
  [[nodiscard]] bool Running() { return process_ && process_->Running(); }

  [[nodiscard]] int Port() const { return port_; }
  [[nodiscard]] const std::string& User() const { return user_; }
  [[nodiscard]] const std::string& Password() const { return password_; }
  [[nodiscard]] std::string Url(std::string_view database) const;

  // A new connection as `ikigai` over TCP, optionally to a database.
  [[nodiscard]] MariaDbConnection Connect(const std::string& database = "") const;
  // Runs SQL as `ikigai` on a new connection.
  void Exec(std::string_view sql, const std::string& database = "") const;
  // Creates an empty utf8mb4 database with a new name. Thread-safe.
  MariaDbDatabase CreateDatabase();

  // The server's error log so far.
  [[nodiscard]] std::string ErrorLog() const;
  // How long mariadb-install-db took, and the last start until the first successful connection.
  [[nodiscard]] std::chrono::milliseconds InstallTime() const { return install_time_; }
  [[nodiscard]] std::chrono::milliseconds StartTime() const { return start_time_; }

 private:
  // One attempt to start on port_; false if mariadbd exited (a port clash, for instance).
  bool TryStart();

  TempDir dir_;
  std::string data_dir_;
  std::string socket_;
  std::string error_log_;
  int port_ = 0;
  std::string user_ = "ikigai";
  std::string password_;
  bool user_created_ = false;
  std::optional<Process> process_;
  std::atomic<int> next_database_{1};
  std::chrono::milliseconds install_time_{0};
  std::chrono::milliseconds start_time_{0};
};

// A loopback TCP port that was free a moment ago (bound to port 0, then closed).
[[nodiscard]] int FreeLoopbackPort();

}  // namespace ikigai::support
