// base64url (RFC 4648 section 5) as Web Push uses it: no padding on output; on input trailing '='
// is tolerated because some clients pad the keys of a PushSubscription.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ikigai::push {

[[nodiscard]] std::string Base64UrlEncode(std::string_view bytes);
// nullopt for any character outside [A-Za-z0-9_-] or an impossible length.
[[nodiscard]] std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace ikigai::push
