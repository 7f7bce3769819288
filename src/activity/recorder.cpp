// Writes one activity row.
#include "activity/recorder.hpp"

#include "core/ids.hpp"
#include "store/activity.hpp"

namespace ikigai::activity {

void Recorder::Record(store::Connection& c, const core::RequestMeta& meta, const Event& event) const {
  store::ActivityRow row;
  row.id = core::NewId(clock_, random_);
  row.at = core::ToMillis(clock_.Now());
  row.actor_id = event.actor_id;
  row.action = event.action;
  row.target_type = event.target_type;
  row.target_id = event.target_id;
  row.ip = meta.ip;
  row.user_agent = meta.user_agent;
  row.request_id = meta.request_id;
  row.data = event.data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  store::ActivityStore::Insert(c, row);
}

}  // namespace ikigai::activity
