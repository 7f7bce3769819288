#include "support/secrets.hpp"

#include <algorithm>
#include <exception>
#include <vector>

#include <gtest/gtest.h>

#include "support/direct_db.hpp"

namespace ikigai::support {
namespace {

constexpr std::string_view kDataSecrets[] = {"Correct-Horse-Battery-", "$argon2", "$2a$", "$2b$", "$2y$",
                                             kTestJwtSecret};
constexpr std::string_view kJwtStart = "eyJ";

std::string_view LineAround(std::string_view text, std::size_t at) {
  const auto start = text.rfind('\n', at);
  const auto from = start == std::string_view::npos ? 0 : start + 1;
  const auto end = text.find('\n', at);
  return text.substr(from, std::min<std::size_t>(400, (end == std::string_view::npos ? text.size() : end) - from));
}

}  // namespace

void ExpectNoSecretsInLog(std::string_view who, const std::string& log) {
  std::vector<std::string_view> markers(std::begin(kDataSecrets), std::end(kDataSecrets));
  markers.push_back(kJwtStart);
  for (auto marker : markers) {
    const auto at = log.find(marker);
    if (at != std::string::npos) {
      ADD_FAILURE() << who << ": the server log holds a secret (" << marker << "): " << LineAround(log, at);
    }
  }
}

void ExpectNoSecretsInActivity(std::string_view who, DirectDb& db) {
  std::vector<DirectDb::Row> rows;
  try {
    rows = db.Query("SELECT action, data FROM activity");
  } catch (const std::exception& e) {
    ADD_FAILURE() << who << ": cannot read the activity table: " << e.what();
    return;
  }
  for (const auto& row : rows) {
    const std::string data = row.at(1).value_or("");
    for (auto marker : kDataSecrets) {
      if (data.find(marker) != std::string::npos) {
        ADD_FAILURE() << who << ": activity " << row.at(0).value_or("?") << " holds a secret (" << marker
                      << "): " << data.substr(0, 400);
      }
    }
  }
}

}  // namespace ikigai::support
