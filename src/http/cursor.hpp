// Opaque, tamper-evident pagination cursors: base64url(JSON) "." base64url(HMAC-SHA256), keyed
// from the JWT secrets (the first seals, all open), so a modified cursor is a 400, never a wrong
// page.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ikigai::http {

class CursorSealer {
 public:
  explicit CursorSealer(const std::vector<std::string>& secrets);
  [[nodiscard]] std::string Seal(const nlohmann::json& payload) const;
  // nullopt when the cursor is malformed or its seal does not verify.
  [[nodiscard]] std::optional<nlohmann::json> Open(const std::string& cursor) const;

 private:
  std::vector<std::string> keys_;  // 32-byte HMAC keys derived from each secret
};

}  // namespace ikigai::http
