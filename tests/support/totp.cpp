// oathtool as a subprocess: `oathtool --totp -b --now @T SECRET`.
#include "support/totp.hpp"

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "support/process.hpp"

namespace ikigai::support {

std::string OathTotp(const std::string& base32_secret, long long unix_seconds, long long step_offset) {
  char at[32];
  std::snprintf(at, sizeof at, "@%lld", unix_seconds + step_offset * 30);
  auto r = RunCommand({.binary = "oathtool",
                       .args = {"--totp", "-b", "--now", at, base32_secret},
                       .env = {{"TZ", "UTC"}},
                       .unset_env_prefixes = {},
                       .output_dir = {},
                       .name = "oathtool"},
                      std::chrono::seconds(10));
  std::string code = r.out;
  while (!code.empty() && (code.back() == '\n' || code.back() == '\r')) code.pop_back();
  if (r.exit_status != 0 || code.size() != 6) {
    throw std::runtime_error("oathtool failed: " + r.out + r.err);
  }
  return code;
}

long long NowInsideStep(long long margin) {
  auto now = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  long long t = now();
  if (30 - t % 30 <= margin) {
    std::this_thread::sleep_for(std::chrono::seconds(30 - t % 30 + 1));
    t = now();
  }
  return t;
}

}  // namespace ikigai::support
