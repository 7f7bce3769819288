// Who asked, from where: what every state-changing service call records in the activity log.
#pragma once

#include <string>

namespace ikigai::core {

struct RequestMeta {
  std::string ip;
  std::string user_agent;
  std::string request_id;
};

}  // namespace ikigai::core
