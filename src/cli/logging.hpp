// Log set-up: text or JSON lines on stderr; the access log is asynchronous and never blocks.
#pragma once

#include "config/config.hpp"

namespace ikigai::cli {

void SetUpLogging(config::LogFormat format, const std::string& level);

}  // namespace ikigai::cli
