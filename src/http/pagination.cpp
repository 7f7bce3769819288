// Query-parameter checks.
#include "http/pagination.hpp"

#include <charconv>

#include "core/text.hpp"

namespace ikigai::http {

core::Error BadQuery(const std::string& name, core::FieldCode code, const std::string& why) {
  core::Error e{core::ErrorCode::kBadRequest, "Query parameter '" + name + "' " + why + ".", {}, std::nullopt};
  e.fields[name] = {code, why};
  return e;
}

std::optional<std::string> QueryParam(const Request& r, const char* name) {
  auto it = r.query.find(name);
  if (it == r.query.end()) return std::nullopt;
  return it->second;
}

core::Result<std::optional<std::string>> TextParam(const Request& r, const char* name, std::size_t max_bytes,
                                                   const std::string& too_long) {
  auto v = QueryParam(r, name);
  if (!v) return std::optional<std::string>{};
  if (v->size() > max_bytes) return core::Fail(BadQuery(name, core::FieldCode::kTooLong, too_long));
  if (core::CountCodePoints(*v) < 0) return core::Fail(BadQuery(name, core::FieldCode::kInvalidFormat, "must be valid UTF-8"));
  return v;
}

core::Result<int> ParseLimit(const Request& r) {
  auto limit = QueryParam(r, "limit");
  if (!limit) return kDefaultLimit;
  int n = 0;
  auto [p, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
  if (ec != std::errc{} || p != limit->data() + limit->size() || n < 1 || n > kMaxLimit) {
    return core::Fail(BadQuery("limit", core::FieldCode::kOutOfRange, "must be a whole number from 1 to 100"));
  }
  return n;
}

core::Result<std::optional<bool>> ParseBoolParam(const Request& r, const char* name) {
  auto v = QueryParam(r, name);
  if (!v) return std::optional<bool>{};
  if (*v == "true") return std::optional<bool>{true};
  if (*v == "false") return std::optional<bool>{false};
  return core::Fail(BadQuery(name, core::FieldCode::kInvalidValue, "must be true or false"));
}

}  // namespace ikigai::http
