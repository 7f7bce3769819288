// DESIGN.md "Scaling out", proven: three Galera nodes, two instances (each on its own node) and
// HAProxy in front, started by scripts/cluster.sh from a temporary folder on free loopback ports.
// Through the balancer and directly on each instance: the last-admin race, If-Match races, every
// email sent exactly once, logout seen at once by the other instance; then failover under write
// load (kill -9 of a Galera node, then of an instance): no acknowledged write lost, no 500, service
// back within 5 s, the node rejoins by IST and the cluster ends synced with three nodes.
// Skipped (with a message) only when galera-4, haproxy or rsync are not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/accounts.hpp"
#include "support/concurrency.hpp"
#include "support/http_client.hpp"
#include "support/mail_suite.hpp"
#include "support/mariadb.hpp"
#include "support/process.hpp"
#include "support/smtp_sink.hpp"
#include "support/task_api.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;
using support::Http;
using support::Response;
using SteadyClock = std::chrono::steady_clock;

std::string MissingTools() {
  std::string missing;
  if (!std::filesystem::exists("/usr/lib/galera/libgalera_smm.so")) missing += " galera-4";
  for (const char* tool : {"/usr/sbin/haproxy", "/usr/bin/rsync", "/usr/sbin/mariadbd"}) {
    if (!std::filesystem::exists(tool)) missing += std::string(" ") + std::filesystem::path(tool).filename().string();
  }
  return missing;
}

std::string Joined(const std::string& a, const std::string& b) {
  std::string out = a;
  out += b;
  return out;
}

// The cluster of one test run: scripts/cluster.sh with CLUSTER_DIR in a temporary folder and
// this process as its owner (a crashed test leaves nothing running: the script's watchdog stops it).
class Cluster {
 public:
  explicit Cluster(const std::map<std::string, std::string>& instance_env) : dir_("ikigai-cluster-") {
    cluster_dir_ = dir_.File("c");
    // The nodes run as the mysql user (when we are root), which must be able to walk in.
    std::filesystem::permissions(dir_.Path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                                  std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                                  std::filesystem::perms::others_exec);
    auto result = Script({"start"}, instance_env, 300s);
    started_ = true;
    if (result.exit_status != 0) {
      throw std::runtime_error(Joined("cluster.sh start failed:\n" + result.out + "\n", result.err));
    }
    startup_output_ = result.out;
    std::ifstream state(cluster_dir_ + "/state");
    std::string line;
    while (std::getline(state, line)) {
      const auto eq = line.find('=');
      if (eq != std::string::npos) state_[line.substr(0, eq)] = line.substr(eq + 1);
    }
  }
  ~Cluster() {
    if (started_) (void)Script({"stop"}, {}, 120s);
  }
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  support::CommandResult Script(std::vector<std::string> args, const std::map<std::string, std::string>& extra,
                                std::chrono::seconds timeout) const {
    support::ProcessOptions options;
    options.binary = "/bin/bash";
    options.args = {std::string(IKIGAI_SOURCE_DIR) + "/scripts/cluster.sh"};
    options.args.insert(options.args.end(), args.begin(), args.end());
    options.unset_env_prefixes = {"IKIGAI_", "CLUSTER_"};
    options.env = extra;
    options.env["CLUSTER_DIR"] = cluster_dir_;
    options.env["CLUSTER_OWNER_PID"] = std::to_string(getpid());
    options.env["IKIGAI_BIN"] = IKIGAI_BINARY;
    return support::RunCommand(options, timeout);
  }
  void Must(std::vector<std::string> args, std::chrono::seconds timeout = 180s) const {
    auto r = Script(args, {}, timeout);
    if (r.exit_status != 0) throw std::runtime_error(Joined("cluster.sh failed: " + r.out + "\n", r.err));
  }

  [[nodiscard]] std::string Get(const std::string& key) const {
    auto it = state_.find(key);
    return it == state_.end() ? std::string{} : it->second;
  }
  [[nodiscard]] std::string ProxyUrl() const { return "http://127.0.0.1:" + Get("PROXY_PORT"); }
  [[nodiscard]] std::string InstanceUrl(int n) const {
    return "http://127.0.0.1:" + Get("INSTANCE" + std::to_string(n) + "_PORT");
  }
  // A connection to node n as the application's user, reads waiting for the cluster's writes.
  [[nodiscard]] support::MariaDbConnection Node(int n) const {
    support::MariaDbConnection c("127.0.0.1", std::stoi(Get("NODE" + std::to_string(n) + "_PORT")), "", "ikigai",
                                 Get("DB_PASSWORD"), "ikigai");
    c.Exec("SET SESSION wsrep_sync_wait = 1");
    return c;
  }
  [[nodiscard]] std::string Status(int n, const std::string& variable) const {
    auto c = Node(n);
    auto rows = c.Query("SHOW STATUS LIKE '" + variable + "'");
    return rows.empty() || rows[0].size() < 2 || !rows[0][1] ? std::string{} : *rows[0][1];
  }
  [[nodiscard]] const std::string& StartupOutput() const { return startup_output_; }

 private:
  support::TempDir dir_;
  std::string cluster_dir_;
  std::map<std::string, std::string> state_;
  std::string startup_output_;
  bool started_ = false;
};

class ClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!MissingTools().empty()) return;
    sink_ = std::make_unique<support::SmtpSink>();
    auto env = support::TaskServerEnv();
    env.erase("IKIGAI_JWT_SECRET");  // the script gives both instances one secret
    for (const auto& [k, v] : support::MailEnv(*sink_, {{"IKIGAI_JOBS_INTERVAL", "1"}})) env[k] = v;
    const auto started = SteadyClock::now();
    cluster_ = std::make_unique<Cluster>(env);
    std::printf("[cluster] started in %.1f s\n%s",
                std::chrono::duration<double>(SteadyClock::now() - started).count(),
                cluster_->StartupOutput().c_str());
  }
  static void TearDownTestSuite() {
    cluster_.reset();
    sink_.reset();
  }
  void SetUp() override {
    if (auto missing = MissingTools(); !missing.empty()) GTEST_SKIP() << "not installed:" << missing << " (bash scripts/deps.sh test)";
    ASSERT_TRUE(cluster_) << "the cluster did not start";
  }

  static Http Proxy() { return Http(cluster_->ProxyUrl()); }
  static Http Instance(int n) { return Http(cluster_->InstanceUrl(n)); }

  static long long EnabledAdmins() {
    auto c = cluster_->Node(3);
    return std::stoll(c.Scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0").value_or("-1"));
  }

  static std::unique_ptr<support::SmtpSink> sink_;
  static std::unique_ptr<Cluster> cluster_;
};

std::unique_ptr<support::SmtpSink> ClusterTest::sink_;
std::unique_ptr<Cluster> ClusterTest::cluster_;

std::string Quote(const std::string& id) { return "'" + id + "'"; }  // ids are UUIDs

// Two admins, each signed in through a different instance (so on a different Galera node), demote
// each other at the same moment. Row locks are per node, so without the common guard row both
// would commit and leave no admin.
TEST_F(ClusterTest, TwoAdminsDemotingEachOtherOnTwoNodesLeaveOneAdminEveryRound) {
  Http a = Instance(1), b = Instance(2);
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE(support::Numbered("round ", round));
    auto first = support::NewApiUser(a, "race_a");
    auto second = support::NewApiUser(b, "race_b");
    // These two are the only enabled admins.
    cluster_->Node(1).Exec("UPDATE users SET role = CASE WHEN id IN (" + Quote(first.id) + ", " + Quote(second.id) +
                           ") THEN 'admin' ELSE 'user' END WHERE role = 'admin' OR id IN (" + Quote(first.id) +
                           ", " + Quote(second.id) + ")");
    ASSERT_EQ(EnabledAdmins(), 2);
    auto results = support::AllAtOnce(2, [&](int i) {
      const auto& actor = i == 0 ? first : second;
      const auto& victim = i == 0 ? second : first;
      return (i == 0 ? a : b).Patch("/api/v1/admin/users/" + victim.id, R"({"role":"user"})", actor.auth);
    });
    int ok = 0;
    for (const auto& r : results) {
      if (r.status == 200) {
        ++ok;
      } else {
        // The loser either is no admin any more (403) or would remove the last one (409).
        EXPECT_TRUE(r.status == 403 || r.status == 409) << r;
      }
    }
    EXPECT_EQ(ok, 1);
    ASSERT_EQ(EnabledAdmins(), 1) << "the last-admin rule broke on the cluster";
  }
}

TEST_F(ClusterTest, TwentyConcurrentIfMatchPatchesOverBothInstancesLetExactlyOneThrough) {
  Http proxy = Proxy();
  auto user = support::NewApiUser(proxy, "ifmatch");
  auto task = support::CreateTask(proxy, user, {{"title", "Race"}});
  const std::string id = task["id"];
  const Http instances[] = {Instance(1), Instance(2)};
  auto results = support::AllAtOnce(20, [&](int i) {
    return support::PatchTask(instances[i % 2], user, id, {{"title", support::Numbered("Winner ", i)}}, "\"1\"");
  });
  const auto race = support::TallyIfMatchRace(results);
  EXPECT_EQ(race.ok, 1);
  EXPECT_EQ(race.precondition_failed, 19);
  for (int n = 1; n <= 2; ++n) {
    auto read = support::GetTask(Instance(n), user, id);
    ASSERT_EQ(read.status, 200) << read;
    EXPECT_EQ(read.Json()["version"], 2);
    EXPECT_EQ(read.Json()["title"], race.winner["title"]);
  }
}

TEST_F(ClusterTest, EveryEmailOfFiftyRegistrationsOverBothInstancesIsSentExactlyOnce) {
  const std::size_t before = sink_->Messages().size();
  std::vector<support::Credentials> people;
  for (int i = 0; i < 50; ++i) people.push_back(support::NewCredentials("once"));
  const Http instances[] = {Instance(1), Instance(2)};
  auto results = support::AllAtOnce(50, [&](int i) { return support::RegisterUser(instances[i % 2], people[static_cast<std::size_t>(i)]); });
  for (const auto& r : results) ASSERT_EQ(r.status, 201) << r;
  auto messages = sink_->WaitForMessages(before + 50, 60s);
  ASSERT_GE(messages.size(), before + 50);
  // Both instances' senders poll every second: after the outbox is empty and two more ticks, a
  // second delivery of any row would have arrived.
  ASSERT_TRUE(support::WaitUntil(
      [&] {
        return cluster_->Node(1).Scalar("SELECT COUNT(*) FROM mail_outbox WHERE status IN ('pending', 'sending')") ==
               std::optional<std::string>("0");
      },
      30s, 100ms));
  std::this_thread::sleep_for(2500ms);
  messages = sink_->Messages();
  std::map<std::string, int> per_recipient;
  for (std::size_t i = before; i < messages.size(); ++i) {
    ++per_recipient[support::EmailHeader(messages[i], "X-Sink-Rcpt-To")];
  }
  EXPECT_EQ(messages.size() - before, 50u) << "duplicates or strays";
  for (const auto& who : people) EXPECT_EQ(per_recipient["<" + who.email + ">"] + per_recipient[who.email], 1) << who.email;
}

TEST_F(ClusterTest, LogoutOnOneInstanceIsUnauthorizedOnTheOtherAtTheNextRequest) {
  Http a = Instance(1), b = Instance(2);
  for (int round = 0; round < 10; ++round) {
    auto pair = support::RegisterAndLogin(a, support::NewCredentials("logout"));
    ASSERT_EQ(support::GetMe(b, pair.access_token).status, 200);
    ASSERT_EQ(a.Post("/api/v1/auth/logout", "", support::BearerHeaders(pair.access_token)).status, 204);
    EXPECT_TRUE(support::IsUnauthorized(support::GetMe(b, pair.access_token))) << "round " << round;
    // And the other way round, through the balancer.
    auto other = support::RegisterAndLogin(b, support::NewCredentials("logout"));
    ASSERT_EQ(b.Post("/api/v1/auth/logout", "", support::BearerHeaders(other.access_token)).status, 204);
    EXPECT_TRUE(support::IsUnauthorized(support::GetMe(a, other.access_token)));
    EXPECT_TRUE(support::IsUnauthorized(support::GetMe(Proxy(), other.access_token)));
  }
}

// The failover figures, printed for the closing note.
struct LoadStats {
  std::mutex mutex;
  std::vector<std::pair<std::string, int>> created;  // (task id, writer index)
  std::map<int, int> statuses;                       // status -> count
  std::vector<std::string> bad;                      // descriptions of 500s and other surprises
  std::vector<SteadyClock::time_point> successes;
};

// The longest time without a 201 from `from` on (until the load stopped).
double LongestGap(const LoadStats& stats, SteadyClock::time_point from, SteadyClock::time_point until) {
  std::vector<SteadyClock::time_point> times;
  for (auto t : stats.successes) {
    if (t >= from && t <= until) times.push_back(t);
  }
  std::sort(times.begin(), times.end());
  double longest = 0;
  auto previous = from;
  for (auto t : times) {
    longest = std::max(longest, std::chrono::duration<double>(t - previous).count());
    previous = t;
  }
  return std::max(longest, std::chrono::duration<double>(until - previous).count());
}

TEST_F(ClusterTest, KillingAGaleraNodeThenAnInstanceUnderWriteLoadLosesNoAcknowledgedWrite) {
  Http proxy = Proxy();
  constexpr int kWriters = 20;
  std::vector<support::ApiUser> writers;
  for (int i = 0; i < kWriters; ++i) writers.push_back(support::NewApiUser(proxy, "failover"));
  LoadStats stats;
  std::atomic<bool> stop{false};
  std::vector<std::jthread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int n = 0; !stop.load(); ++n) {
        support::Request req;
        req.method = "POST";
        req.path = "/api/v1/tasks";
        req.body = nlohmann::json{{"title", support::Numbered(support::Numbered("w", w) + " #", n)}}.dump();
        req.headers = writers[static_cast<std::size_t>(w)].auth;
        req.timeout = 20s;
        auto r = proxy.Send(req);
        std::lock_guard lock(stats.mutex);
        ++stats.statuses[r.status];
        if (r.status == 201) {
          stats.created.emplace_back(r.Json()["id"].get<std::string>(), w);
          stats.successes.push_back(SteadyClock::now());
        } else if (r.status != 503) {
          stats.bad.push_back(r.Describe());
        } else {
          std::this_thread::sleep_for(100ms);  // as Retry-After asks (shortened)
        }
      }
    });
  }
  std::this_thread::sleep_for(3s);

  // 1. kill -9 the Galera node under instance 2.
  const auto node_killed = SteadyClock::now();
  cluster_->Must({"kill-node", "2"});
  std::this_thread::sleep_for(8s);
  const double node_gap = LongestGap(stats, node_killed, SteadyClock::now());
  // It comes back and catches up by IST while the load goes on.
  const auto rejoin_started = SteadyClock::now();
  cluster_->Must({"start-node", "2"});
  const double rejoin_seconds = std::chrono::duration<double>(SteadyClock::now() - rejoin_started).count();
  // Instance 2 is ready again once its node is (HAProxy sees it within a second or two).
  ASSERT_TRUE(support::WaitUntil([&] { return Instance(2).Get("/readyz").status == 200; }, 30s, 200ms));
  std::this_thread::sleep_for(2s);

  // 2. kill -9 instance 1.
  const auto instance_killed = SteadyClock::now();
  cluster_->Must({"kill-instance", "1"});
  std::this_thread::sleep_for(6s);
  const double instance_gap = LongestGap(stats, instance_killed, SteadyClock::now());
  stop = true;
  threads.clear();
  cluster_->Must({"start-instance", "1"});

  std::map<int, int> statuses;
  std::vector<std::pair<std::string, int>> created;
  {
    std::lock_guard lock(stats.mutex);
    statuses = stats.statuses;
    created = stats.created;
    for (const auto& b : stats.bad) ADD_FAILURE() << "neither 201 nor 503: " << b;
  }
  EXPECT_EQ(statuses.count(500), 0u);
  std::ostringstream figures;
  figures << "[cluster] failover: " << created.size() << " writes acknowledged;";
  for (const auto& [status, count] : statuses) figures << " " << status << "x" << count;
  figures << "; longest gap without a 201 after the node kill " << node_gap << " s, after the instance kill "
          << instance_gap << " s; node rejoin (recovery + IST + synced) " << rejoin_seconds << " s\n";
  std::printf("%s", figures.str().c_str());
  EXPECT_LE(node_gap, 5.0);
  EXPECT_LE(instance_gap, 5.0);
  ASSERT_GT(created.size(), 100u) << "too little load to tell anything";

  // Every acknowledged write is on every node (the restarted one included) and readable through
  // the balancer.
  std::set<std::string> acknowledged;
  for (const auto& c : created) acknowledged.insert(c.first);
  std::string owners;
  for (const auto& w : writers) owners += (owners.empty() ? "" : ", ") + Quote(w.id);
  for (int n = 1; n <= 3; ++n) {
    auto rows = cluster_->Node(n).Query("SELECT id FROM tasks WHERE user_id IN (" + owners + ")");
    std::set<std::string> stored;
    for (const auto& row : rows) stored.insert(*row[0]);
    std::size_t lost = 0;
    for (const auto& id : acknowledged) lost += stored.count(id) == 0 ? 1 : 0;
    EXPECT_EQ(lost, 0u) << "acknowledged writes missing on node " << n;
  }
  std::atomic<int> unreadable{0};
  {
    std::vector<std::jthread> readers;
    for (int t = 0; t < 4; ++t) {
      readers.emplace_back([&, t] {
        for (std::size_t i = static_cast<std::size_t>(t); i < created.size(); i += 4) {
          auto r = support::GetTask(proxy, writers[static_cast<std::size_t>(created[i].second)], created[i].first);
          if (r.status != 200) ++unreadable;
        }
      });
    }
  }
  EXPECT_EQ(unreadable.load(), 0);

  // The cluster ends whole: three synced nodes.
  for (int n = 1; n <= 3; ++n) {
    EXPECT_EQ(cluster_->Status(n, "wsrep_cluster_size"), "3") << "node " << n;
    EXPECT_EQ(cluster_->Status(n, "wsrep_local_state_comment"), "Synced") << "node " << n;
  }
  EXPECT_TRUE(support::WaitUntil([&] { return Instance(1).Get("/readyz").status == 200; }, 30s, 200ms));
}

}  // namespace
}  // namespace ikigai
