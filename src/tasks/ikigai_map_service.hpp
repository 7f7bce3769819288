// The ikigai map: read (empty before the first save) and full replacement with If-Match.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "activity/recorder.hpp"
#include "core/clock.hpp"
#include "core/request_meta.hpp"
#include "store/database.hpp"

namespace ikigai::tasks {

struct IkigaiMap {
  std::vector<std::string> love, good_at, world_needs, paid_for;
  std::string statement;
  std::optional<long long> updated_at;  // nullopt before the first save
  int version = 0;
};

class IkigaiMapService {
 public:
  IkigaiMapService(store::Database& db, const core::Clock& clock, core::Random& random)
      : db_(db), clock_(clock), recorder_(clock, random) {}

  [[nodiscard]] core::Result<IkigaiMap> Get(const std::string& user_id);
  // `map` holds the new content (version and updated_at ignored). If-Match as for tasks ("0"
  // matches before the first save). 422 for field rules, 412 for a stale version.
  [[nodiscard]] core::Result<IkigaiMap> Put(const std::string& user_id, const IkigaiMap& map,
                                            std::optional<int> if_match, const core::RequestMeta& meta);

 private:
  store::Database& db_;
  const core::Clock& clock_;
  activity::Recorder recorder_;
};

}  // namespace ikigai::tasks
