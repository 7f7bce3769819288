// libmariadb prepared statements: execute, buffer the result, size the column buffers from the
// buffered maximum lengths, fetch.
#include "store/mysql_statement.hpp"

#include <mysql.h>
#include <soci/mysql/soci-mysql.h>
#include <soci/soci.h>

#include <cstring>

namespace ikigai::store {
namespace {

constexpr unsigned int kNeedReprepare = 1615;  // ER_NEED_REPREPARE: a table changed under it

}  // namespace

MysqlStatement::MysqlStatement(soci::session& sql, std::string query)
    : conn_(static_cast<soci::mysql_session_backend*>(sql.get_backend())->conn_), query_(std::move(query)) {
  Prepare();
}

MysqlStatement::~MysqlStatement() {
  if (stmt_ != nullptr) mysql_stmt_close(stmt_);
}

void MysqlStatement::Prepare() {
  if (stmt_ != nullptr) mysql_stmt_close(stmt_);
  stmt_ = mysql_stmt_init(conn_);
  if (stmt_ == nullptr) throw soci::mysql_soci_error(mysql_error(conn_), static_cast<int>(mysql_errno(conn_)));
  // Ask the buffered result for each column's longest value, so buffers can be sized exactly.
  my_bool update_max = 1;
  mysql_stmt_attr_set(stmt_, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
  if (mysql_stmt_prepare(stmt_, query_.data(), query_.size()) != 0) Fail();
}

void MysqlStatement::Fail() {
  // Like SOCI's own errors, without the values (which the log must never see).
  throw soci::mysql_soci_error(mysql_stmt_error(stmt_), static_cast<int>(mysql_stmt_errno(stmt_)));
}

std::vector<MysqlStatement::Row> MysqlStatement::Query(const std::vector<Param>& params) {
  // libmariadb reads the values through these buffers, which its API does not take as const.
  std::vector<long long> numbers(params.size());
  for (int attempt = 0;; ++attempt) {
    std::vector<MYSQL_BIND> in(params.size());
    std::vector<unsigned long> in_lengths(params.size());
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::memset(&in[i], 0, sizeof in[i]);
      if (const auto* text = std::get_if<std::string_view>(&params[i])) {
        in_lengths[i] = text->size();
        in[i].buffer_type = MYSQL_TYPE_STRING;
        in[i].buffer = const_cast<char*>(text->data());
        in[i].buffer_length = text->size();
        in[i].length = &in_lengths[i];
      } else {
        numbers[i] = std::get<long long>(params[i]);
        in[i].buffer_type = MYSQL_TYPE_LONGLONG;
        in[i].buffer = &numbers[i];
      }
    }
    if (mysql_stmt_bind_param(stmt_, in.data()) != 0) Fail();
    if (mysql_stmt_execute(stmt_) != 0) {
      if (mysql_stmt_errno(stmt_) == kNeedReprepare && attempt == 0) {
        Prepare();
        continue;
      }
      Fail();
    }
    if (mysql_stmt_store_result(stmt_) != 0) Fail();
    std::vector<Row> rows;
    MYSQL_RES* meta = mysql_stmt_result_metadata(stmt_);
    if (meta == nullptr) {
      mysql_stmt_free_result(stmt_);
      return rows;
    }
    const unsigned int columns = mysql_num_fields(meta);
    MYSQL_FIELD* fields = mysql_fetch_fields(meta);
    std::vector<std::string> buffers(columns);
    std::vector<MYSQL_BIND> out(columns);
    std::vector<unsigned long> lengths(columns);
    std::vector<my_bool> nulls(columns);
    for (unsigned int i = 0; i < columns; ++i) {
      // Numbers arrive converted to text; their longest form fits in 32 bytes.
      buffers[i].resize(std::max<std::size_t>(fields[i].max_length, 32) + 1);
      std::memset(&out[i], 0, sizeof out[i]);
      out[i].buffer_type = MYSQL_TYPE_STRING;
      out[i].buffer = buffers[i].data();
      out[i].buffer_length = buffers[i].size();
      out[i].length = &lengths[i];
      out[i].is_null = &nulls[i];
    }
    mysql_free_result(meta);
    if (mysql_stmt_bind_result(stmt_, out.data()) != 0) Fail();
    int status = 0;
    while ((status = mysql_stmt_fetch(stmt_)) == 0) {
      Row row(columns);
      for (unsigned int i = 0; i < columns; ++i) {
        if (!nulls[i]) row[i].emplace(buffers[i].data(), lengths[i]);
      }
      rows.push_back(std::move(row));
    }
    mysql_stmt_free_result(stmt_);
    if (status != MYSQL_NO_DATA) Fail();
    return rows;
  }
}

}  // namespace ikigai::store
