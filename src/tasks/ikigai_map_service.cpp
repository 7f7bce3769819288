// Ikigai map rules and storage.
#include "tasks/ikigai_map_service.hpp"

#include <nlohmann/json.hpp>

#include "core/text.hpp"

#include "store/ikigai_maps.hpp"
#include "tasks/task_service.hpp"

namespace ikigai::tasks {
namespace {

std::string ToJson(const std::vector<std::string>& v) {
  return nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> FromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array()) {
    for (const auto& e : j) {
      if (e.is_string()) out.push_back(e.get<std::string>());
    }
  }
  return out;
}

IkigaiMap FromRow(const store::IkigaiMapRow& r) {
  return IkigaiMap{FromJson(r.love), FromJson(r.good_at), FromJson(r.world_needs), FromJson(r.paid_for),
                   r.statement, r.updated_at, r.version};
}

void CheckCircle(const char* name, const std::vector<std::string>& entries, core::Error& invalid) {
  if (entries.size() > 50) {
    invalid.fields[name] = {core::FieldCode::kTooMany, "must hold at most 50 entries"};
    return;
  }
  for (const auto& e : entries) {
    const long n = core::CountCodePoints(e);
    if (n < 1 || n > 200) {
      invalid.fields[name] = {n < 1 ? core::FieldCode::kTooShort : core::FieldCode::kTooLong,
                              "each entry must be 1 to 200 characters"};
      return;
    }
    if (core::IsBlank(e)) {
      invalid.fields[name] = {core::FieldCode::kTooShort, "entries must not be blank"};
      return;
    }
  }
}

}  // namespace

core::Result<IkigaiMap> IkigaiMapService::Get(const std::string& user_id) {
  return db_.Run([&](store::Connection& c) -> core::Result<IkigaiMap> {
    auto row = store::IkigaiMapStore::Get(c, user_id, false);
    return row ? FromRow(*row) : IkigaiMap{};
  });
}

core::Result<IkigaiMap> IkigaiMapService::Put(const std::string& user_id, const IkigaiMap& map,
                                              std::optional<int> if_match, const core::RequestMeta& meta) {
  core::Error invalid{core::ErrorCode::kValidation, {}, {}, std::nullopt};
  CheckCircle("love", map.love, invalid);
  CheckCircle("good_at", map.good_at, invalid);
  CheckCircle("world_needs", map.world_needs, invalid);
  CheckCircle("paid_for", map.paid_for, invalid);
  if (core::CountCodePoints(map.statement) > 1000) invalid.fields["statement"] = {core::FieldCode::kTooLong, "must be at most 1000 characters"};
  if (!invalid.fields.empty()) return core::Fail(std::move(invalid));
  return db_.Transaction([&](store::Connection& c) -> core::Result<IkigaiMap> {
    // Two first saves can race: the loser's INSERT meets the winner's row. Without If-Match it
    // simply replaces that row on the next pass; with If-Match it is a stale precondition.
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto current = store::IkigaiMapStore::Get(c, user_id, true);
      const int version = current ? current->version : 0;
      if (if_match && *if_match != kAnyVersion && *if_match != version) {
        return core::Fail(core::ErrorCode::kPreconditionFailed, "The map has changed since you read it.");
      }
      store::IkigaiMapRow row{user_id, ToJson(map.love), ToJson(map.good_at), ToJson(map.world_needs),
                              ToJson(map.paid_for), map.statement, core::ToMillis(clock_.Now()), version + 1};
      if (current && current->love == row.love && current->good_at == row.good_at &&
          current->world_needs == row.world_needs && current->paid_for == row.paid_for &&
          current->statement == row.statement) {
        return FromRow(*current);  // nothing changed: same version, no event
      }
      if (store::IkigaiMapStore::Save(c, row, version)) {
        recorder_.Record(c, meta, {.actor_id = user_id, .action = "ikigai.updated", .target_type = "ikigai_map",
                                   .target_id = user_id});
        return FromRow(row);
      }
      if (if_match && *if_match != kAnyVersion) break;
    }
    return core::Fail(core::ErrorCode::kPreconditionFailed, "The map has changed since you read it.");
  });
}

}  // namespace ikigai::tasks
