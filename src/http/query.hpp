// The query string of a request target, decoded as application/x-www-form-urlencoded.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace ikigai::http {

// Every parameter's first value ("+" is a space, %XX decoded); nullopt when an escape is
// malformed. Kept apart from the transport: RESTinio's parser pulls in standalone Asio, which
// cannot share a translation unit with Boost.Asio.
[[nodiscard]] std::optional<std::map<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace ikigai::http
