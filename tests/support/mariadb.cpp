// A private MariaDB server for tests: its own data directory and loopback port, nothing else.
#include "support/mariadb.hpp"

#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>
#include <stdexcept>
#include <utility>

#include <arpa/inet.h>
#include <mysql.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/wait.hpp"

namespace ikigai::support {
namespace {

using Clock = std::chrono::steady_clock;

void LibraryInit() {
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

std::string RandomPassword() {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  std::random_device device;
  std::string out;
  for (int i = 0; i < 24; ++i) out.push_back(kAlphabet[device() % kAlphabet.size()]);
  return out;
}

std::string Tail(const std::string& text, std::size_t max = std::size_t{8} * 1024) {
  return text.size() <= max ? text : text.substr(text.size() - max);
}

std::chrono::milliseconds Since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

std::vector<std::string> ServerSettings() {
  // Small and fast rather than durable: the data dies with the test run anyway.
  return {"--innodb-buffer-pool-size=64M",
          "--innodb-log-file-size=32M",
          "--skip-log-bin",
          "--innodb-flush-log-at-trx-commit=2",
          "--innodb-doublewrite=0",
          "--innodb-buffer-pool-dump-at-shutdown=0",
          "--innodb-buffer-pool-load-at-startup=0",
          "--performance-schema=OFF",
          "--character-set-server=utf8mb4",
          "--collation-server=utf8mb4_general_ci",
          "--max-connections=500",
          "--key-buffer-size=1M",
          "--loose-feedback=OFF"};
}

}  // namespace

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int error = errno;
    close(fd);
    throw std::runtime_error(std::string("bind/getsockname: ") + std::strerror(error));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// ---- MariaDbConnection ----

MariaDbConnection::MariaDbConnection(const std::string& host, int port, const std::string& socket,
                                     const std::string& user, const std::string& password,
                                     const std::string& database,
                                     std::chrono::seconds connect_timeout) {
  LibraryInit();
  mysql_ = mysql_init(nullptr);
  if (mysql_ == nullptr) throw std::runtime_error("mysql_init failed");
  unsigned int connect_seconds = static_cast<unsigned int>(connect_timeout.count());
  unsigned int io_seconds = 120;
  mysql_optionsv(mysql_, MYSQL_OPT_CONNECT_TIMEOUT, &connect_seconds);
  mysql_optionsv(mysql_, MYSQL_OPT_READ_TIMEOUT, &io_seconds);
  mysql_optionsv(mysql_, MYSQL_OPT_WRITE_TIMEOUT, &io_seconds);
  mysql_optionsv(mysql_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  unsigned int protocol = socket.empty() ? MYSQL_PROTOCOL_TCP : MYSQL_PROTOCOL_SOCKET;
  mysql_optionsv(mysql_, MYSQL_OPT_PROTOCOL, &protocol);
  if (mysql_real_connect(mysql_, socket.empty() ? host.c_str() : nullptr, user.c_str(),
                         password.c_str(), database.empty() ? nullptr : database.c_str(),
                         static_cast<unsigned int>(port), socket.empty() ? nullptr : socket.c_str(),
                         CLIENT_MULTI_STATEMENTS) == nullptr) {
    std::string error = mysql_error(mysql_);
    Close();
    throw std::runtime_error("cannot connect to MariaDB at " +
                             (socket.empty() ? host + ":" + std::to_string(port) : socket) + ": " +
                             error);
  }
}

MariaDbConnection::~MariaDbConnection() { Close(); }

MariaDbConnection::MariaDbConnection(MariaDbConnection&& other) noexcept
    : mysql_(std::exchange(other.mysql_, nullptr)) {}

MariaDbConnection& MariaDbConnection::operator=(MariaDbConnection&& other) noexcept {
  if (this != &other) {
    Close();
    mysql_ = std::exchange(other.mysql_, nullptr);
  }
  return *this;
}

void MariaDbConnection::Close() noexcept {
  if (mysql_ != nullptr) mysql_close(mysql_);
  mysql_ = nullptr;
}

void MariaDbConnection::Exec(std::string_view sql) { (void)Query(sql); }

std::vector<MariaDbConnection::Row> MariaDbConnection::Query(std::string_view sql) {
  if (mysql_ == nullptr) throw std::runtime_error("MariaDbConnection: not connected");
  auto fail = [&]() -> std::runtime_error {
    return std::runtime_error("MariaDB error " + std::to_string(mysql_errno(mysql_)) + " (" +
                              mysql_error(mysql_) + ") in: " + std::string(sql.substr(0, 500)));
  };
  if (mysql_real_query(mysql_, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
    throw fail();
  }
  std::vector<Row> rows;
  bool first = true;
  while (true) {
    MYSQL_RES* result = mysql_store_result(mysql_);
    if (result != nullptr) {
      unsigned int columns = mysql_num_fields(result);
      while (MYSQL_ROW row = mysql_fetch_row(result)) {
        if (!first) continue;
        unsigned long* lengths = mysql_fetch_lengths(result);
        Row out;
        for (unsigned int i = 0; i < columns; ++i) {
          if (row[i] == nullptr)
            out.emplace_back(std::nullopt);
          else
            out.emplace_back(std::string(row[i], lengths[i]));
        }
        rows.push_back(std::move(out));
      }
      mysql_free_result(result);
      first = false;
    } else if (mysql_field_count(mysql_) != 0) {
      throw fail();
    }
    int next = mysql_next_result(mysql_);
    if (next < 0) break;
    if (next > 0) throw fail();
  }
  return rows;
}

std::optional<std::string> MariaDbConnection::Scalar(std::string_view sql) {
  auto rows = Query(sql);
  if (rows.empty() || rows.front().empty()) return std::nullopt;
  return rows.front().front();
}

// ---- MariaDbServer ----

MariaDbServer::MariaDbServer() : dir_("ikigai-mariadb-") {
  data_dir_ = dir_.File("data");
  socket_ = dir_.File("sock");
  error_log_ = dir_.File("error.log");
  password_ = RandomPassword();
  if (socket_.size() >= 100) {
    throw std::runtime_error("MariaDB socket path too long (set TMPDIR to a shorter path): " +
                             socket_);
  }

  ProcessOptions install;
  install.binary = "mariadb-install-db";
  install.args = {"--no-defaults",  // must come first
                  "--auth-root-authentication-method=normal", "--datadir=" + data_dir_,
                  "--skip-test-db", "--skip-name-resolve"};
  if (geteuid() == 0) install.args.push_back("--user=root");
  for (auto& setting : ServerSettings()) install.args.push_back(setting);
  install.output_dir = dir_.Path();
  install.name = "install";
  auto started = Clock::now();
  CommandResult result = RunCommand(install, std::chrono::seconds{120});
  install_time_ = Since(started);
  if (result.exit_status != 0) {
    throw std::runtime_error("mariadb-install-db failed (status " +
                             std::to_string(result.exit_status.value_or(-1)) + "):\n" +
                             Tail(result.out) + "\n" + Tail(result.err));
  }

  // The port was free a moment ago; should another process take it meanwhile, try another.
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = FreeLoopbackPort();
    if (TryStart()) return;
  }
  throw std::runtime_error("mariadbd did not start; its error log:\n" + Tail(ErrorLog()));
}

MariaDbServer::~MariaDbServer() {
  try {
    Stop();
  } catch (...) {
    // Process's destructor still kills it.
  }
}

bool MariaDbServer::TryStart() {
  ProcessOptions options;
  options.binary = "mariadbd";
  options.args = {"--no-defaults",  // must come first
                  "--datadir=" + data_dir_,
                  "--socket=" + socket_,
                  "--port=" + std::to_string(port_),
                  "--bind-address=127.0.0.1",
                  "--skip-name-resolve",
                  "--pid-file=" + dir_.File("mariadbd.pid"),
                  "--log-error=" + error_log_,
                  "--tmpdir=" + dir_.Path()};
  if (geteuid() == 0) options.args.push_back("--user=root");
  for (auto& setting : ServerSettings()) options.args.push_back(setting);
  options.output_dir = dir_.Path();
  options.name = "mariadbd";
  auto started = Clock::now();
  process_.emplace(std::move(options));

  std::string last_error;
  bool up = WaitUntil(
      [&] {
        if (!process_->Running()) return true;
        try {
          MariaDbConnection root("", 0, socket_, "root", "", "", std::chrono::seconds{1});
          if (!user_created_) {
            root.Exec("CREATE USER IF NOT EXISTS '" + user_ + "'@'127.0.0.1' IDENTIFIED BY '" +
                      password_ + "'; GRANT ALL PRIVILEGES ON *.* TO '" + user_ +
                      "'@'127.0.0.1' WITH GRANT OPTION");
            user_created_ = true;
          }
          return true;
        } catch (const std::exception& e) {
          last_error = e.what();
          return false;
        }
      },
      std::chrono::seconds{60}, std::chrono::milliseconds{10});
  start_time_ = Since(started);
  if (!process_->Running()) {
    process_.reset();
    return false;
  }
  if (!up) {
    process_.reset();  // kills it
    throw std::runtime_error("mariadbd did not accept connections within 60 s (" + last_error +
                             "); its error log:\n" + Tail(ErrorLog()));
  }
  // The socket works; make sure TCP and the test user do too.
  (void)Connect();
  return true;
}

void MariaDbServer::Start() {
  if (Running()) return;
  if (!TryStart()) {
    throw std::runtime_error("mariadbd did not start again on port " + std::to_string(port_) +
                             "; its error log:\n" + Tail(ErrorLog()));
  }
}

void MariaDbServer::Stop() {
  if (!process_) return;
  if (process_->Running()) {
    process_->Signal(SIGTERM);
    if (!process_->Wait(std::chrono::seconds{60})) process_->Kill();
  }
  process_.reset();
}

std::string MariaDbServer::Url(std::string_view database) const {
  return "mysql://" + user_ + ":" + password_ + "@127.0.0.1:" + std::to_string(port_) + "/" +
         std::string(database);
}

MariaDbConnection MariaDbServer::Connect(const std::string& database) const {
  return MariaDbConnection("127.0.0.1", port_, "", user_, password_, database);
}

void MariaDbServer::Exec(std::string_view sql, const std::string& database) const {
  Connect(database).Exec(sql);
}

MariaDbDatabase MariaDbServer::CreateDatabase() {
  std::string name = "ikigai_test_" + std::to_string(next_database_.fetch_add(1));
  Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4");
  return {name, Url(name)};
}

std::string MariaDbServer::ErrorLog() const { return ReadFile(error_log_); }

}  // namespace ikigai::support
