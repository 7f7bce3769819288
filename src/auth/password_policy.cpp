// Checks a new password against the rules of API.md and a common-password list from Debian.
#include "auth/password_policy.hpp"

#include "core/text.hpp"

#include <cstdint>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

namespace ikigai::auth {

PasswordPolicy::PasswordPolicy(const std::filesystem::path& common_passwords_file) {
  std::ifstream in(common_passwords_file);
  if (!in) {
    throw std::runtime_error("cannot read the common-password list " +
                             common_passwords_file.string() +
                             " (on Debian it comes with the package john-data)");
  }
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.starts_with("#!comment")) continue;
    common_.insert(core::LowerAscii(line));
  }
  if (in.bad()) {
    throw std::runtime_error("error reading the common-password list " +
                             common_passwords_file.string());
  }
  if (common_.empty()) {
    throw std::runtime_error("the common-password list " + common_passwords_file.string() +
                             " holds no password");
  }
}

core::Result<void> PasswordPolicy::Check(std::string_view password, std::string_view username,
                                         std::string_view email) const {
  const long counted = core::CountCodePoints(password);
  if (counted < 0) return core::FailField("password", core::FieldCode::kInvalidFormat, "must be valid UTF-8");
  const auto code_points = static_cast<std::size_t>(counted);
  if (code_points < kMinCodePoints) {
    return core::FailField("password", core::FieldCode::kTooShort, "must be at least 8 characters");
  }
  if (code_points > kMaxCodePoints) {
    return core::FailField("password", core::FieldCode::kTooLong, "must be at most 256 characters");
  }
  const std::string lowered = core::LowerAscii(password);
  if (lowered == core::LowerAscii(username) || lowered == core::LowerAscii(email)) {
    return core::FailField("password", core::FieldCode::kSameAsIdentity, "must not be the same as the username or email");
  }
  if (common_.contains(lowered)) return core::FailField("password", core::FieldCode::kTooCommon, "is too common");
  return {};
}

}  // namespace ikigai::auth
