// API.md "Ikigai map": the empty map at version 0, full replacement, If-Match (with "0" before the
// first save, also under concurrency), the limits of circles and statement, identical content
// keeping its version, one map per user, and the ikigai.updated event. Real binary, current back end.
#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/concurrency.hpp"
#include "support/accounts.hpp"
#include "support/direct_db.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/task_api.hpp"
#include "support/text.hpp"

namespace ikigai {
namespace {

using support::Repeat;

using nlohmann::json;
using support::ApiUser;
using support::DirectDb;
using support::Http;
using support::IsFieldError;
using support::IsProblem;
using support::IsUtcTimestamp;
using support::Response;

constexpr const char* kMap = "/api/v1/ikigai";

std::vector<std::string> Entries(int n, int length = 10) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::string e = support::Numbered("entry ", i) + " ";
    e += std::string(static_cast<std::size_t>(std::max(0, length - static_cast<int>(e.size()))), 'x');
    out.push_back(e.substr(0, static_cast<std::size_t>(length)));
  }
  return out;
}

const json kEmptyCircles = {{"love", json::array()},
                            {"good_at", json::array()},
                            {"world_needs", json::array()},
                            {"paid_for", json::array()},
                            {"statement", ""}};

const json kFullMap = {{"love", {"writing", "mountains"}},
                       {"good_at", {"explaining", "C++"}},
                       {"world_needs", {"clear documentation"}},
                       {"paid_for", {"software", "teaching"}},
                       {"statement", "Teach people to build calm software."}};

// The content of a map (its circles and statement), without updated_at and version.
json Content(const json& map) {
  json out = json::object();
  for (const char* key : {"love", "good_at", "world_needs", "paid_for", "statement"}) {
    if (map.contains(key)) out[key] = map[key];
  }
  return out;
}

class IkigaiMapTest : public support::TaskSuite<IkigaiMapTest> {
 protected:
  void SetUp() override {
    http_ = std::make_unique<Http>(Server());
    user_ = support::NewApiUser(*http_, "ikigai");
  }

  const Http& http() const { return *http_; }

  Response GetMap(const ApiUser& user) { return http().Get(kMap, "", user.auth); }
  Response GetMap() { return GetMap(user_); }
  Response PutAs(const ApiUser& user, const json& body, std::optional<std::string> if_match = std::nullopt) {
    support::Headers headers = user.auth;
    if (if_match) headers.emplace_back("If-Match", *if_match);
    return http().Put(kMap, body.dump(), std::move(headers));
  }
  Response Put(const json& body, std::optional<std::string> if_match = std::nullopt) {
    return PutAs(user_, body, std::move(if_match));
  }
  std::size_t UpdateEvents(const ApiUser& user) { return support::ActivityOf(Db(), user.id, "ikigai.").size(); }

  std::unique_ptr<Http> http_;
  ApiUser user_;
};

TEST_F(IkigaiMapTest, BeforeTheFirstSaveTheMapIsEmptyAtVersion0) {
  auto res = GetMap();
  ASSERT_EQ(res.status, 200) << res;
  ASSERT_TRUE(support::IsJsonResponse(res));
  json expected = kEmptyCircles;
  expected["updated_at"] = nullptr;
  expected["version"] = 0;
  EXPECT_EQ(res.Json(), expected);
  EXPECT_EQ(res.Header("etag"), "\"0\"");
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM ikigai_maps WHERE user_id = " + DirectDb::Quote(user_.id)), "0")
      << "reading must not create the map";
}

TEST_F(IkigaiMapTest, PutIsAFullReplacement) {
  auto first = Put(kFullMap);
  ASSERT_EQ(first.status, 200) << first;
  ASSERT_TRUE(support::IsJsonResponse(first));
  EXPECT_EQ(Content(first.Json()), kFullMap);
  EXPECT_EQ(first.Json()["version"], 1);
  EXPECT_TRUE(IsUtcTimestamp(first.Json()["updated_at"])) << first;
  EXPECT_EQ(first.Json().size(), 7u) << first;
  EXPECT_EQ(first.Header("etag"), "\"1\"");
  auto read = GetMap();
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.Json(), first.Json());
  EXPECT_EQ(read.Header("etag"), "\"1\"");

  // Missing circles become empty, a missing statement becomes "".
  const json partial = {{"love", {"reading"}}, {"paid_for", {"consulting"}}};
  auto second = Put(partial);
  ASSERT_EQ(second.status, 200) << second;
  json expected = kEmptyCircles;
  expected["love"] = {"reading"};
  expected["paid_for"] = {"consulting"};
  EXPECT_EQ(Content(second.Json()), expected);
  EXPECT_EQ(second.Json()["version"], 2);
  EXPECT_EQ(Content(GetMap().Json()), expected);

  auto statement_only = Put({{"statement", "Only words."}});
  ASSERT_EQ(statement_only.status, 200) << statement_only;
  expected = kEmptyCircles;
  expected["statement"] = "Only words.";
  EXPECT_EQ(Content(statement_only.Json()), expected);
  EXPECT_EQ(statement_only.Json()["version"], 3);

  auto emptied = Put(json::object());
  ASSERT_EQ(emptied.status, 200) << emptied;
  EXPECT_EQ(Content(emptied.Json()), kEmptyCircles);
  EXPECT_EQ(emptied.Json()["version"], 4);
  EXPECT_TRUE(IsUtcTimestamp(emptied.Json()["updated_at"])) << "a saved empty map keeps its updated_at";
  EXPECT_EQ(GetMap().Header("etag"), "\"4\"");

  // Order matters: a new order of the same entries is a change.
  ASSERT_EQ(Put({{"love", {"a", "b"}}}).status, 200);
  auto reordered = Put({{"love", {"b", "a"}}});
  ASSERT_EQ(reordered.status, 200) << reordered;
  EXPECT_EQ(reordered.Json()["love"], (json{"b", "a"}));
  EXPECT_EQ(reordered.Json()["version"], 6);
}

TEST_F(IkigaiMapTest, IfMatchZeroMatchesBeforeTheFirstSave) {
  auto first = Put(kFullMap, "\"0\"");
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.Json()["version"], 1);

  auto stale = Put({{"love", {"changed"}}}, "\"0\"");
  EXPECT_TRUE(IsProblem(stale, 412, "precondition_failed"));
  auto read = GetMap();
  EXPECT_EQ(read.Json(), first.Json()) << "a 412 changed the map";

  for (const char* never : {"\"2\"", "\"7\"", "\"-1\"", "\"one\""}) {
    SCOPED_TRACE(never);
    EXPECT_TRUE(IsProblem(Put({{"love", {"never"}}}, never), 412, "precondition_failed"));
  }
  EXPECT_EQ(GetMap().Json(), first.Json());

  auto current = Put({{"love", {"changed"}}}, "\"1\"");
  ASSERT_EQ(current.status, 200) << current;
  EXPECT_EQ(current.Json()["version"], 2);
  EXPECT_EQ(current.Header("etag"), "\"2\"");
  auto any = Put({{"love", {"again"}}}, "*");
  ASSERT_EQ(any.status, 200) << any;
  EXPECT_EQ(any.Json()["version"], 3);
  EXPECT_EQ(UpdateEvents(user_), 3u);
}

TEST_F(IkigaiMapTest, AStaleIfMatchBeforeTheFirstSaveIs412) {
  auto stale = Put(kFullMap, "\"1\"");
  EXPECT_TRUE(IsProblem(stale, 412, "precondition_failed"));
  auto read = GetMap();
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.Json()["version"], 0);
  EXPECT_EQ(Content(read.Json()), kEmptyCircles);
  EXPECT_EQ(UpdateEvents(user_), 0u);
  // "*" matches the map that GET shows, saved or not.
  auto any = Put(kFullMap, "*");
  ASSERT_EQ(any.status, 200) << any;
  EXPECT_EQ(any.Json()["version"], 1);
}

TEST_F(IkigaiMapTest, LimitsAreInclusiveAndCountCodePoints) {
  const json big = {{"love", Entries(50, 200)},
                    {"good_at", Entries(50, 200)},
                    {"world_needs", Entries(50, 200)},
                    {"paid_for", Entries(50, 200)},
                    {"statement", Repeat("s", 1000)}};
  auto res = Put(big);
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(Content(GetMap().Json()), big);
  const json wide = {{"love", {Repeat("\xC3\xA9", 200), Repeat("\xF0\x9F\x8C\xB8", 200)}},
                     {"statement", Repeat("\xE5\x92\x8C", 1000)}};  // é, 🌸, 和
  auto unicode = Put(wide);
  ASSERT_EQ(unicode.status, 200) << unicode;
  json expected = kEmptyCircles;
  expected["love"] = wide["love"];
  expected["statement"] = wide["statement"];
  EXPECT_EQ(Content(GetMap().Json()), expected);
  auto empty_lists = Put(kEmptyCircles);
  ASSERT_EQ(empty_lists.status, 200) << empty_lists;
  EXPECT_EQ(Content(empty_lists.Json()), kEmptyCircles);
}

struct InvalidMap {
  const char* name;
  json body;
  const char* field;
};

std::vector<InvalidMap> InvalidMaps() {
  return {
      {"Love51Entries", {{"love", Entries(51)}}, "love"},
      {"GoodAt51Entries", {{"good_at", Entries(51)}}, "good_at"},
      {"WorldNeeds51Entries", {{"world_needs", Entries(51)}}, "world_needs"},
      {"PaidFor51Entries", {{"paid_for", Entries(51)}}, "paid_for"},
      {"EmptyEntry", {{"love", {"ok", ""}}}, "love"},
      {"EmptyEntryInPaidFor", {{"paid_for", {""}}}, "paid_for"},
      {"Entry201Chars", {{"good_at", {Repeat("g", 201)}}}, "good_at"},
      {"Entry201CodePoints", {{"world_needs", {Repeat("\xC3\xA9", 201)}}}, "world_needs"},
      {"Statement1001Chars", {{"statement", Repeat("s", 1001)}}, "statement"},
      {"Statement1001CodePoints", {{"statement", Repeat("\xC3\xA9", 1001)}}, "statement"},
      {"StatementNumber", {{"statement", 42}}, "statement"},
      {"StatementArray", {{"statement", json::array({"a"})}}, "statement"},
      {"CircleString", {{"love", "writing"}}, "love"},
      {"CircleObject", {{"good_at", json::object({{"a", "b"}})}}, "good_at"},
      {"CircleNumber", {{"world_needs", 3}}, "world_needs"},
      {"CircleBoolean", {{"paid_for", true}}, "paid_for"},
      {"EntryNumber", {{"love", {"ok", 5}}}, "love"},
      {"EntryNull", {{"love", json::array({nullptr})}}, "love"},
      {"EntryArray", {{"paid_for", json::array({json::array({"nested"})})}}, "paid_for"},
      {"UnknownField", {{"purpose", "x"}}, "purpose"},
      {"UnknownFieldBesideValidOnes", {{"love", {"x"}}, {"Love", {"y"}}}, "Love"},
      {"Version", {{"version", 1}}, "version"},
      {"UpdatedAt", {{"updated_at", "2026-12-01T10:00:00Z"}}, "updated_at"},
      {"UserId", {{"user_id", "someone"}}, "user_id"},
  };
}

class IkigaiMapValidationTest : public IkigaiMapTest, public ::testing::WithParamInterface<InvalidMap> {};

TEST_P(IkigaiMapValidationTest, IsRefusedWith422AndChangesNothing) {
  const auto& c = GetParam();
  // Before the first save: nothing is created.
  EXPECT_TRUE(IsFieldError(Put(c.body), c.field)) << c.body.dump().substr(0, 200);
  EXPECT_EQ(GetMap().Json()["version"], 0);
  // After a save: the map stays as it was, with or without the current If-Match.
  auto saved = Put(kFullMap);
  ASSERT_EQ(saved.status, 200) << saved;
  EXPECT_TRUE(IsFieldError(Put(c.body), c.field));
  EXPECT_TRUE(IsFieldError(Put(c.body, "\"1\""), c.field));
  auto read = GetMap();
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.Json(), saved.Json());
  EXPECT_EQ(UpdateEvents(user_), 1u);
}

INSTANTIATE_TEST_SUITE_P(IkigaiRules, IkigaiMapValidationTest, ::testing::ValuesIn(InvalidMaps()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(IkigaiMapTest, ABodyThatIsNotAnObjectIsRefused) {
  for (const char* body : {"[]", "\"love\"", "1"}) {
    SCOPED_TRACE(body);
    auto res = http().Put(kMap, body, user_.auth);
    EXPECT_TRUE(IsFieldError(res, "body"));
  }
  EXPECT_TRUE(IsProblem(http().Put(kMap, "{\"love\": [", user_.auth), 400, "malformed_json"));
  EXPECT_EQ(GetMap().Json()["version"], 0);
}

TEST_F(IkigaiMapTest, PuttingIdenticalContentKeepsTheVersion) {
  auto first = Put(kFullMap);
  ASSERT_EQ(first.status, 200) << first;
  // An updated_at far in the past shows whether an identical PUT writes it.
  Db().Exec("UPDATE ikigai_maps SET updated_at = 1000000000000 WHERE user_id = " + DirectDb::Quote(user_.id));
  // The same content in another member order, and with the current If-Match.
  const json reordered = {{"statement", kFullMap["statement"]}, {"paid_for", kFullMap["paid_for"]},
                          {"world_needs", kFullMap["world_needs"]}, {"good_at", kFullMap["good_at"]},
                          {"love", kFullMap["love"]}};
  for (const auto& [body, if_match] : std::vector<std::pair<json, std::optional<std::string>>>{
           {kFullMap, std::nullopt}, {reordered, std::nullopt}, {kFullMap, "\"1\""}, {kFullMap, "*"}}) {
    SCOPED_TRACE(if_match.value_or("no If-Match"));
    auto same = Put(body, if_match);
    ASSERT_EQ(same.status, 200) << same;
    EXPECT_EQ(same.Json()["version"], 1);
    EXPECT_EQ(same.Header("etag"), "\"1\"");
    EXPECT_EQ(same.Json()["updated_at"], "2001-09-09T01:46:40Z");
    EXPECT_EQ(Content(same.Json()), kFullMap);
  }
  EXPECT_EQ(Db().Scalar("SELECT version FROM ikigai_maps WHERE user_id = " + DirectDb::Quote(user_.id)), "1");
  EXPECT_EQ(UpdateEvents(user_), 1u) << "an identical PUT was recorded";

  // An empty map saved as empty circles is identical to empty circles sent again (missing ones too).
  auto empty = Put(kEmptyCircles);
  ASSERT_EQ(empty.status, 200) << empty;
  EXPECT_EQ(empty.Json()["version"], 2);
  for (const json& body : {kEmptyCircles, json::object(), json{{"statement", ""}}}) {
    auto again = Put(body);
    ASSERT_EQ(again.status, 200) << again;
    EXPECT_EQ(again.Json()["version"], 2) << body;
  }
  EXPECT_EQ(UpdateEvents(user_), 2u);
}

TEST_F(IkigaiMapTest, EachUserHasTheirOwnMap) {
  auto other = support::NewApiUser(http(), "ikigai-other");
  auto mine = Put(kFullMap);
  ASSERT_EQ(mine.status, 200) << mine;

  auto theirs_before = GetMap(other);
  ASSERT_EQ(theirs_before.status, 200) << theirs_before;
  EXPECT_EQ(theirs_before.Json()["version"], 0);
  EXPECT_EQ(Content(theirs_before.Json()), kEmptyCircles);
  EXPECT_EQ(theirs_before.Header("etag"), "\"0\"");

  // Their If-Match "0" refers to their own, unsaved map.
  auto theirs = PutAs(other, {{"love", {"gardening"}}}, "\"0\"");
  ASSERT_EQ(theirs.status, 200) << theirs;
  EXPECT_EQ(theirs.Json()["version"], 1);
  ASSERT_EQ(PutAs(other, {{"love", {"gardening", "birds"}}}).status, 200);

  EXPECT_EQ(GetMap().Json(), mine.Json()) << "another user's PUT changed this map";
  EXPECT_EQ(GetMap(other).Json()["love"], (json{"gardening", "birds"}));
  EXPECT_EQ(GetMap(other).Json()["version"], 2);
  EXPECT_EQ(UpdateEvents(user_), 1u);
  EXPECT_EQ(UpdateEvents(other), 2u);
}

TEST_F(IkigaiMapTest, ChangesAreRecordedAsIkigaiUpdated) {
  ASSERT_EQ(http().Put(kMap, kFullMap.dump(), user_.With({{"X-Request-Id", "map-put-1"}})).status, 200);
  ASSERT_EQ(http().Put(kMap, kFullMap.dump(), user_.With({{"X-Request-Id", "map-put-same"}})).status, 200);
  ASSERT_EQ(http().Put(kMap, json{{"love", {"x"}}}.dump(), user_.With({{"X-Request-Id", "map-put-2"}})).status,
            200);
  EXPECT_TRUE(IsFieldError(Put({{"love", {""}}}), "love"));  // refused: no event
  auto events = support::ActivityOf(Db(), user_.id);
  std::multiset<std::string> requests;
  for (const auto& e : events) {
    if (e.action != "ikigai.updated") continue;
    EXPECT_EQ(e.actor_id, user_.id);
    requests.insert(e.request_id);
  }
  EXPECT_EQ(requests, (std::multiset<std::string>{"map-put-1", "map-put-2"}));
  const std::string data = Db().Scalar("SELECT data FROM activity WHERE request_id = 'map-put-1'").value_or("");
  EXPECT_EQ(data.find("mountains"), std::string::npos) << "the event copies the map's content: " << data;
}

// ---------------------------------------------------------------------------------------------
// Concurrency

// 20 PUTs at once; returns their responses.
std::vector<Response> ConcurrentPuts(const Http& http, const ApiUser& user, std::optional<std::string> if_match) {
  constexpr int kClients = 20;
  support::Headers headers = user.auth;
  if (if_match) headers.emplace_back("If-Match", *if_match);
  std::vector<std::string> bodies;
  for (int i = 0; i < kClients; ++i) {
    bodies.push_back(json{{"love", {support::Numbered("writer ", i)}}, {"statement", support::Numbered("by ", i)}}.dump());
  }
  return support::AllAtOnce(kClients,
                            [&](int i) { return http.Put(kMap, bodies[static_cast<std::size_t>(i)], headers); });
}

void ExpectExactlyOneWinner(const std::vector<Response>& results, int version) {
  int ok = 0, precondition = 0;
  for (const auto& r : results) {
    if (r.status == 200) {
      ++ok;
      EXPECT_EQ(r.Json()["version"], version) << r;
    } else if (IsProblem(r, 412, "precondition_failed")) {
      ++precondition;
    } else {
      ADD_FAILURE() << "neither 200 nor 412: " << r;
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(precondition, static_cast<int>(results.size()) - 1);
}

TEST_F(IkigaiMapTest, ConcurrentFirstSavesWithIfMatchZeroLetExactlyOneThrough) {
  auto results = ConcurrentPuts(http(), user_, "\"0\"");
  ExpectExactlyOneWinner(results, 1);
  auto read = GetMap();
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.Json()["version"], 1);
  EXPECT_EQ(UpdateEvents(user_), 1u);
}

TEST_F(IkigaiMapTest, ConcurrentSavesWithTheSameIfMatchLetExactlyOneThrough) {
  ASSERT_EQ(Put(kFullMap).status, 200);
  auto results = ConcurrentPuts(http(), user_, "\"1\"");
  ExpectExactlyOneWinner(results, 2);
  EXPECT_EQ(GetMap().Json()["version"], 2);
  EXPECT_EQ(UpdateEvents(user_), 2u);
}

// A PUT without If-Match is a plain replacement: it never answers 412, not even when the first
// saves of a map race. The race is run for several fresh users, as one round may not collide.
TEST_F(IkigaiMapTest, ConcurrentFirstSavesWithoutIfMatchAllSucceed) {
  for (int round = 0; round < 10; ++round) {
    SCOPED_TRACE(support::Numbered("round ", round));
    const ApiUser user = round == 0 ? user_ : support::NewApiUser(http(), "ikigai-race");
    auto results = ConcurrentPuts(http(), user, std::nullopt);
    std::set<int> versions;
    for (const auto& r : results) {
      ASSERT_EQ(r.status, 200) << "a PUT without If-Match must not fail: " << r;
      versions.insert(r.Json()["version"].get<int>());
    }
    EXPECT_EQ(versions.size(), results.size()) << "two writers got the same version";
    EXPECT_EQ(*versions.rbegin(), static_cast<int>(results.size()));
    EXPECT_EQ(GetMap(user).Json()["version"], static_cast<int>(results.size()));
    EXPECT_EQ(UpdateEvents(user), results.size());
  }
}

}  // namespace
}  // namespace ikigai
