#include "push/vapid_key.hpp"

#include <string>

#include "push/base64url.hpp"

namespace ikigai::push {

std::optional<EcKey> ParseVapidPrivateKey(std::string_view text) {
  if (text.find("-----BEGIN") != std::string_view::npos) {
    std::string pem;
    pem.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'n') {
        pem.push_back('\n');
        ++i;
      } else {
        pem.push_back(text[i]);
      }
    }
    return EcKey::FromPem(pem);
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  auto scalar = Base64UrlDecode(text);
  if (!scalar) return std::nullopt;
  return EcKey::FromScalar(*scalar);
}

}  // namespace ikigai::push
