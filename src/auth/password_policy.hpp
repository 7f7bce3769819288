// The password rules of API.md: 8..256 code points, not the username or email, not common.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/error.hpp"

namespace ikigai::auth {

// Openwall's list of common passwords (Debian package john-data): 3546 passwords most seen in
// leaks, plain text, public domain. Chosen over the alternatives on Debian because a plain list
// is deterministic and, once loaded, safe to read from any thread:
// - cracklib-runtime's cracklib-small is mostly dictionary words and lacks "12345678",
//   "password1" and "qwertyuiop"; libcrack2's FascistCheck keeps static buffers (not
//   thread-safe), rejects more than common passwords ("sunflowers", "elephant7"), and its packed
//   dictionary is rebuilt from whatever word lists the host has installed;
// - libpwquality is FascistCheck plus rules read from the host's /etc/security/pwquality.conf;
// - libzxcvbn gives a strength estimate over a built-in dictionary, not membership of a list.
inline constexpr const char* kDefaultCommonPasswordsFile = "/usr/share/john/password.lst";

class PasswordPolicy {
 public:
  static constexpr std::size_t kMinCodePoints = 8;
  static constexpr std::size_t kMaxCodePoints = 256;

  // Loads the list once: one password per line, "#!comment" lines skipped. Throws
  // std::runtime_error when the file cannot be read or holds no password, so that a missing
  // package stops start-up instead of letting every password through.
  explicit PasswordPolicy(
      const std::filesystem::path& common_passwords_file = kDefaultCommonPasswordsFile);

  PasswordPolicy(const PasswordPolicy&) = delete;
  PasswordPolicy& operator=(const PasswordPolicy&) = delete;

  // On failure: a kValidation error with one message on the field "password". The password is
  // judged as given, never trimmed or truncated. Thread-safe.
  [[nodiscard]] core::Result<void> Check(std::string_view password, std::string_view username,
                                         std::string_view email) const;

 private:
  std::unordered_set<std::string> common_;  // ASCII-lowercased
};

}  // namespace ikigai::auth
