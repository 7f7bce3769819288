// TOTP codes for the two-factor tests, computed by `oathtool --totp` (the OATH Toolkit's command
// line), independently of the server's own code.
#pragma once

#include <string>

namespace ikigai::support {

// The six-digit code of `base32_secret` for the 30-second step `step_offset` steps away from the
// step of `unix_seconds`. Throws std::runtime_error when oathtool fails.
[[nodiscard]] std::string OathTotp(const std::string& base32_secret, long long unix_seconds, long long step_offset = 0);

// Now in Unix seconds, at least `margin` seconds before the end of its 30-second step (waits up to
// `margin` seconds when it is not), so that the server, asked a moment later, sees the same step.
[[nodiscard]] long long NowInsideStep(long long margin = 5);

}  // namespace ikigai::support
