// Records activity events inside the caller's transaction, so an event exists exactly when its
// change does. `data` must never hold a password, token or hash.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/request_meta.hpp"
#include "store/database.hpp"

namespace ikigai::activity {

struct Event {
  std::optional<std::string> actor_id{};
  std::string action{};  // e.g. "auth.login_succeeded"
  std::optional<std::string> target_type{};
  std::optional<std::string> target_id{};
  nlohmann::json data = nlohmann::json::object();
};

class Recorder {
 public:
  Recorder(const core::Clock& clock, core::Random& random) : clock_(clock), random_(random) {}
  void Record(store::Connection& c, const core::RequestMeta& meta, const Event& event) const;

 private:
  const core::Clock& clock_;
  core::Random& random_;
};

}  // namespace ikigai::activity
