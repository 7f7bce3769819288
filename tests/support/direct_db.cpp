// Direct SQL on the database a server under test uses.
#include "support/direct_db.hpp"

#include <stdexcept>
#include <utility>

#include <sqlite3.h>

#include "support/backend.hpp"

namespace ikigai::support {
namespace {

constexpr std::string_view kSqlitePrefix = "sqlite://";
constexpr std::string_view kMysqlPrefix = "mysql://";

}  // namespace

DirectDb::DirectDb(std::string url) : url_(std::move(url)) {
  if (url_.rfind(kSqlitePrefix, 0) == 0) {
    const std::string path = url_.substr(kSqlitePrefix.size());
    if (sqlite3_open_v2(path.c_str(), &sqlite_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      std::string error = sqlite_ != nullptr ? sqlite3_errmsg(sqlite_) : "out of memory";
      Close();
      throw std::runtime_error("DirectDb: cannot open " + path + ": " + error);
    }
    sqlite3_busy_timeout(sqlite_, 10000);
    return;
  }
  if (url_.rfind(kMysqlPrefix, 0) == 0) {
    const auto slash = url_.rfind('/');
    std::string name = url_.substr(slash + 1);
    name = name.substr(0, name.find('?'));
    mysql_.emplace(SharedMariaDb().Connect(name));
    return;
  }
  throw std::invalid_argument("DirectDb: unsupported URL " + url_);
}

DirectDb::~DirectDb() { Close(); }

DirectDb::DirectDb(DirectDb&& other) noexcept
    : url_(std::move(other.url_)),
      sqlite_(std::exchange(other.sqlite_, nullptr)),
      mysql_(std::move(other.mysql_)) {
  other.mysql_.reset();
}

DirectDb& DirectDb::operator=(DirectDb&& other) noexcept {
  if (this != &other) {
    Close();
    url_ = std::move(other.url_);
    sqlite_ = std::exchange(other.sqlite_, nullptr);
    mysql_ = std::move(other.mysql_);
    other.mysql_.reset();
  }
  return *this;
}

void DirectDb::Close() noexcept {
  if (sqlite_ != nullptr) sqlite3_close(sqlite_);
  sqlite_ = nullptr;
  mysql_.reset();
}

void DirectDb::Exec(const std::string& sql) {
  if (mysql_) {
    mysql_->Exec(sql);
    return;
  }
  char* message = nullptr;
  if (sqlite3_exec(sqlite_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string error = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    throw std::runtime_error("DirectDb: " + error + " in: " + sql);
  }
}

std::vector<DirectDb::Row> DirectDb::Query(const std::string& sql) {
  if (mysql_) return mysql_->Query(sql);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(sqlite_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    std::string error = sqlite3_errmsg(sqlite_);
    sqlite3_finalize(stmt);
    throw std::runtime_error("DirectDb: " + error + " in: " + sql);
  }
  std::vector<Row> rows;
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    Row row;
    const int columns = sqlite3_column_count(stmt);
    for (int i = 0; i < columns; ++i) {
      if (sqlite3_column_type(stmt, i) == SQLITE_NULL) {
        row.emplace_back(std::nullopt);
      } else {
        const auto* text = sqlite3_column_text(stmt, i);
        const int size = sqlite3_column_bytes(stmt, i);
        row.emplace_back(std::string(reinterpret_cast<const char*>(text),
                                     static_cast<std::size_t>(size)));
      }
    }
    rows.push_back(std::move(row));
  }
  std::string error = rc == SQLITE_DONE ? "" : sqlite3_errmsg(sqlite_);
  sqlite3_finalize(stmt);
  if (!error.empty()) throw std::runtime_error("DirectDb: " + error + " in: " + sql);
  return rows;
}

std::optional<std::string> DirectDb::Scalar(const std::string& sql) {
  auto rows = Query(sql);
  if (rows.empty() || rows.front().empty()) return std::nullopt;
  return rows.front().front();
}

std::string DirectDb::Quote(std::string_view value) {
  if (value.find('\\') != std::string_view::npos) {
    throw std::invalid_argument("DirectDb::Quote: backslashes are not supported");
  }
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

}  // namespace ikigai::support
