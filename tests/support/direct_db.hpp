// Direct SQL on the database a server under test uses: to plant rows (legacy users) and to read
// what the server wrote (activity, hashes, sessions), on either back end.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/mariadb.hpp"

struct sqlite3;

namespace ikigai::support {

// One connection to "sqlite://PATH" (with a busy timeout, so it can share the file with running
// servers) or to a "mysql://..." database on SharedMariaDb(). Values come back as text, NULL as
// nullopt. Move-only, not thread-safe. Errors throw std::runtime_error quoting the SQL.
class DirectDb {
 public:
  using Row = std::vector<std::optional<std::string>>;

  explicit DirectDb(std::string url);
  ~DirectDb();
  DirectDb(DirectDb&& other) noexcept;
  DirectDb& operator=(DirectDb&& other) noexcept;
  DirectDb(const DirectDb&) = delete;
  DirectDb& operator=(const DirectDb&) = delete;

  [[nodiscard]] const std::string& Url() const { return url_; }
  [[nodiscard]] bool IsMysql() const { return mysql_.has_value(); }

  // Runs one statement (no result).
  void Exec(const std::string& sql);
  // The rows of one SELECT.
  [[nodiscard]] std::vector<Row> Query(const std::string& sql);
  // The first column of the first row; nullopt for NULL or no row.
  [[nodiscard]] std::optional<std::string> Scalar(const std::string& sql);

  // A SQL string literal ('...' with quotes doubled) for values without backslashes.
  [[nodiscard]] static std::string Quote(std::string_view value);

 private:
  void Close() noexcept;

  std::string url_;
  sqlite3* sqlite_ = nullptr;
  std::optional<MariaDbConnection> mysql_;
};

}  // namespace ikigai::support
