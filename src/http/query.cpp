// RESTinio's query string parser (percent-decoding included), behind our own signature.
#include "http/query.hpp"

#include <restinio/uri_helpers.hpp>

namespace ikigai::http {

std::optional<std::map<std::string, std::string>> ParseQuery(std::string_view query) {
  const auto parsed = restinio::try_parse_query<restinio::parse_query_traits::x_www_form_urlencoded>(
      restinio::string_view_t(query.data(), query.size()));
  if (!parsed) return std::nullopt;
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : *parsed) out.emplace(std::string(k), std::string(v));
  return out;
}

}  // namespace ikigai::http
