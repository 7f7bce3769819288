// A server-side prepared statement on the MariaDB connection under a SOCI session. SOCI's MySQL
// backend sends every statement as text with the values spliced in, so the server parses and
// plans it on each call; the hottest query (authentication, on every request) is prepared once
// per pooled connection instead, through libmariadb's binary protocol. Values are still bound
// parameters; every column is read as text (NULL as nullopt).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace soci {
class session;
}

struct st_mysql;
struct st_mysql_stmt;

namespace ikigai::store {

class MysqlStatement {
 public:
  using Row = std::vector<std::optional<std::string>>;
  // A value for one '?': text, or a whole number (so that comparisons with integer columns stay
  // integer comparisons and can use their indexes).
  using Param = std::variant<std::string_view, long long>;

  // REQUIRES: `sql` is open on the MySQL backend and outlives this statement. Throws
  // soci::mysql_soci_error (classified like any other database error) when preparing fails.
  MysqlStatement(soci::session& sql, std::string query);
  ~MysqlStatement();
  MysqlStatement(const MysqlStatement&) = delete;
  MysqlStatement& operator=(const MysqlStatement&) = delete;

  // Executes with one value per '?' and returns every row. Throws soci::mysql_soci_error.
  [[nodiscard]] std::vector<Row> Query(const std::vector<Param>& params);

 private:
  void Prepare();
  [[noreturn]] void Fail();

  st_mysql* conn_;
  st_mysql_stmt* stmt_ = nullptr;
  std::string query_;
};

}  // namespace ikigai::store
