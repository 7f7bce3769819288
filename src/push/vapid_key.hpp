// Reading the VAPID private key as IKIGAI_VAPID_PRIVATE_KEY gives it.
#pragma once

#include <optional>
#include <string_view>

#include "push/crypto.hpp"

namespace ikigai::push {

// A PEM P-256 private key (PKCS#8 or SEC1; "\n" written as the two characters \ n is accepted, as
// a one-line environment variable carries it), or base64url of the 32-byte private scalar.
// nullopt for anything else, including keys on other curves.
[[nodiscard]] std::optional<EcKey> ParseVapidPrivateKey(std::string_view text);

}  // namespace ikigai::push
