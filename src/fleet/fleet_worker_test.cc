// The fleet worker on the real server, through the real binary: replicas of
// `tandem worker --target all` splitting the databases of a fleet, a kill -9'd replica's
// databases taken over, SIGTERM giving every job back, and an unreachable target reported while
// the rest go on.
//
// The databases are created once for the suite; every test keeps its own state schema and
// table, so tests do not see each other's work.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "base/process.h"
#include "pg/url.h"
#include "testing/harness.h"
#include "testing/http_receiver.h"
#include "testing/http_request.h"
#include "testing/paths.h"

namespace tandem::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kDatabases = 12;

// GET over a plain socket: the body of the answer, or "" when none came.
std::string HttpGet(int port, const std::string& path) {
  return ::tandem::testing::Request(port, "GET", path).body;
}

class FleetWorkerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    ASSERT_NE(SharedServer(&error), nullptr) << error;
    auto admin = Open("postgres");
    ASSERT_NE(admin, nullptr);
    for (int i = 0; i < kDatabases; ++i) {
      std::string db = pg::QuoteIdentifier(Database(i));
      ASSERT_TRUE(admin->Exec("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)").ok());
      ASSERT_TRUE(admin->Exec("CREATE DATABASE " + db + " TEMPLATE template0").ok());
    }
  }
  static void TearDownTestSuite() {
    auto admin = Open("postgres");
    if (!admin) return;
    for (int i = 0; i < kDatabases; ++i) {
      (void)admin->Exec("DROP DATABASE IF EXISTS " + pg::QuoteIdentifier(Database(i)) +
                        " WITH (FORCE)");
    }
  }
  // The test's own sessions are named, so that counting the workers' sessions leaves them out.
  static std::unique_ptr<pg::Connection> Open(const std::string& db) {
    std::string error;
    auto url = pg::ParseDatabaseUrl(SharedServer(&error)->Url(db));
    if (!url.ok()) return nullptr;
    pg::ConnectOptions options;
    options.application_name = "tandem-test";
    auto c = pg::Connection::Open(*url, options);
    if (!c.ok()) return nullptr;
    return std::move(*c);
  }
  static std::string Database(int i) { return "fleetw_" + std::to_string(i); }
  static std::string Name(int i) {
    char name[16];
    std::snprintf(name, sizeof name, "db-%02d", i);
    return name;
  }

  void SetUp() override {
    static int counter = 0;
    schema_ = "tandem_fw_" + std::to_string(++counter);
    table_ = "fw_" + std::to_string(counter);
    auto admin = Open("postgres");
    ASSERT_NE(admin, nullptr);
    // Earlier tests' workers are gone before this one counts sessions or waits for locks.
    (void)admin->Exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname LIKE 'fleetw\\_%' "
        "AND application_name <> 'tandem-test'");
  }

  // tandem.toml with databases [0, n), plus "dead" (a port nothing listens on) when asked.
  void WriteConfig(int n, bool with_dead = false, const std::string& extra = "") {
    std::string error;
    std::string text =
        "[database]\nschema = \"" + schema_ + "\"\n[worker]\npoll_interval = \"200ms\"\n";
    for (int i = 0; i < n; ++i) {
      text += "[[targets]]\nname = \"" + Name(i) + "\"\nurl = \"" +
              SharedServer(&error)->Url(Database(i)) + "\"\n";
    }
    if (with_dead) text += "[[targets]]\nname = \"dead\"\nurl_env = \"DEAD_URL\"\n";
    text += extra;
    dir_.Write("tandem.toml", text);
  }
  void Migration(const std::string& file, const std::string& body) {
    dir_.Write("db/migrations/" + file, body);
  }
  // The table and a post-deploy job whose statements are `statements` (transaction off).
  void Migrations(const std::string& statements) {
    Migration("1_create.sql", "-- migrate:up\nCREATE TABLE " + table_ + " (v int);\n");
    Migration(
        "2_job.sql",
        "-- tandem:phase post-deploy\n-- tandem:transaction off\n-- migrate:up\n" + statements);
  }

  std::vector<std::string> Env() const {
    return {
        "DATABASE_URL=", "TANDEM_DATABASE_URL=", "NO_COLOR=1",
        "TANDEM_ACTOR=", "SLACK_WEBHOOK_URL=",   "DEAD_URL=postgresql://postgres@127.0.0.1:1/none"};
  }
  ProcessOutput Tandem(const std::vector<std::string>& args) {
    return RunTandem(args, dir_.path().string(), Env());
  }
  pid_t Start(const std::vector<std::string>& args, const std::string& log,
              const std::vector<std::string>& extra_env = {}) {
    SpawnOptions options;
    options.argv = {TANDEM_BINARY_PATH};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env = Env();
    options.env.insert(options.env.end(), extra_env.begin(), extra_env.end());
    options.working_directory = dir_.path().string();
    options.output_path = (dir_.path() / log).string();
    auto pid = Spawn(options);
    EXPECT_TRUE(pid.ok()) << pid.status().ToString();
    return pid.ok() ? *pid : -1;
  }

  std::string Value(int i, const std::string& sql) {
    auto c = Open(Database(i));
    if (!c) return "<no connection>";
    auto r = c->Query(sql);
    if (!r.ok()) return "<error: " + r.status().message() + ">";
    return r->rows() ? r->Get(0, 0) : "";
  }
  std::string Rows(int i) {
    return Value(i, "SELECT coalesce(string_agg(v::text, ',' ORDER BY v), '') FROM " + table_);
  }
  std::string Jobs(int i, const std::string& where) {
    return Value(i, "SELECT count(*) FROM " + schema_ + ".jobs WHERE " + where);
  }
  // Polls until every database in [0, n) has `count` jobs matching `where`.
  bool WaitForJobs(int n, const std::string& where, const std::string& count,
                   std::chrono::seconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      bool all = true;
      for (int i = 0; i < n && all; ++i) all = Jobs(i, where) == count;
      if (all) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  // Sessions of `tandem` processes (not this test's) on the fleet's databases.
  static int WorkerSessions(pg::Connection& admin, const std::string& extra = "true") {
    auto r = admin.Query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'fleetw\\_%' AND "
        "application_name <> 'tandem-test' AND " +
        extra);
    return r.ok() ? static_cast<int>(r->GetInt(0, 0)) : -1;
  }

  std::string schema_;
  std::string table_;
  TempDir dir_;
};

TEST_F(FleetWorkerTest, TwoReplicasSplitTheDatabasesAndRunEveryJobOnce) {
  WriteConfig(kDatabases);
  Migrations("INSERT INTO " + table_ + " SELECT 1 FROM pg_sleep(0.3);\nINSERT INTO " + table_ +
             " VALUES (2);\n");
  Migration("3_job.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO " + table_ + " VALUES (3);\n");
  auto released = Tandem({"release", "--target", "all", "--concurrency", "12"});
  ASSERT_EQ(released.exit_code, 0) << released.out << released.err;

  // Sessions sampled all along: the bound is per replica, whatever the fleet size.
  std::atomic<bool> sampling{true};
  std::atomic<int> peak{0};
  std::thread sampler([&] {
    auto admin = Open("postgres");
    // A count seen by two consecutive samples: a backend whose client has just closed stays
    // listed for a moment while it exits, and is not a session tandem holds.
    int previous = 0;
    while (admin && sampling) {
      int now = WorkerSessions(*admin);
      peak = std::max(peak.load(), std::min(previous, now));
      previous = now;
      std::this_thread::sleep_for(5ms);
    }
  });
  pid_t a =
      Start({"worker", "--target", "all", "--concurrency", "3", "--log-format", "json"}, "a.log");
  pid_t b =
      Start({"worker", "--target", "all", "--concurrency", "3", "--log-format", "json"}, "b.log");
  bool done = WaitForJobs(kDatabases, "status = 'succeeded'", "2", 60s);
  sampling = false;
  sampler.join();
  kill(a, SIGTERM);
  kill(b, SIGTERM);
  auto code_a = WaitForExit(a), code_b = WaitForExit(b);
  ASSERT_TRUE(done) << dir_.Read("a.log") << dir_.Read("b.log");
  ASSERT_TRUE(code_a.ok() && code_b.ok());
  EXPECT_EQ(*code_a, 0) << dir_.Read("a.log");
  EXPECT_EQ(*code_b, 0) << dir_.Read("b.log");

  std::set<std::string> actors;
  for (int i = 0; i < kDatabases; ++i) {
    // Every statement once.
    EXPECT_EQ(Rows(i), "1,2,3") << Name(i);
    EXPECT_EQ(Value(i, "SELECT count(*) FROM " + schema_ + ".events WHERE event = 'job.running'"),
              "2")
        << Name(i);
    // One replica served this database: every job event is by one worker.
    EXPECT_EQ(Value(i, "SELECT count(DISTINCT actor) FROM " + schema_ +
                           ".events WHERE event IN ('job.running', 'job.succeeded')"),
              "1")
        << Name(i);
    actors.insert(
        Value(i, "SELECT min(actor) FROM " + schema_ + ".events WHERE event = 'job.succeeded'"));
  }
  // Both replicas did work.
  EXPECT_EQ(actors.size(), 2u);
  // Each replica: 3 databases at once, each with at most its job and control sessions plus a
  // blocker watch.
  std::printf("peak sessions of two replicas with --concurrency 3 over %d databases: %d\n",
              kDatabases, peak.load());
  EXPECT_GT(peak.load(), 0);
  // One more may still be seen on a loaded machine (an exiting backend lingering for two
  // samples).
  EXPECT_LE(peak.load(), 2 * 3 * 3 + 1);
  std::string log = dir_.Read("a.log");
  EXPECT_NE(log.find("\"target\":\"db-"), std::string::npos) << log;
}

TEST_F(FleetWorkerTest, KilledReplicasDatabasesAreTakenOverWithin30Seconds) {
  constexpr int n = 4;
  WriteConfig(n);
  Migrations("INSERT INTO " + table_ + " VALUES (1);\nINSERT INTO " + table_ +
             " SELECT 2 FROM pg_sleep(3);\nINSERT INTO " + table_ + " VALUES (3);\n");
  ASSERT_EQ(Tandem({"release", "--target", "all"}).exit_code, 0);
  auto admin = Open("postgres");
  ASSERT_NE(admin, nullptr);
  pid_t first = Start({"worker", "--target", "all", "--concurrency", "4"}, "first.log");
  auto until = std::chrono::steady_clock::now() + 30s;
  while (WorkerSessions(*admin, "state = 'active' AND query LIKE '%pg_sleep(3)%'") < n &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(WorkerSessions(*admin, "state = 'active' AND query LIKE '%pg_sleep(3)%'"), n)
      << dir_.Read("first.log");
  pid_t second = Start({"worker", "--target", "all", "--concurrency", "4"}, "second.log");
  std::this_thread::sleep_for(300ms);
  auto killed_at = std::chrono::steady_clock::now();
  kill(first, SIGKILL);
  ASSERT_TRUE(WaitForExit(first).ok());
  bool done = WaitForJobs(n, "status = 'succeeded'", "1", 30s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - killed_at);
  kill(second, SIGTERM);
  auto code = WaitForExit(second);
  ASSERT_TRUE(done) << dir_.Read("second.log");
  std::printf("%d databases taken over and finished %lld ms after kill -9\n", n,
              static_cast<long long>(took.count()));
  EXPECT_LT(took, 30s);
  // The second replica's probes saw the first one's locks: it never even tried them while held.
  EXPECT_EQ(dir_.Read("second.log").find("another worker is active"), std::string::npos)
      << dir_.Read("second.log");
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  for (int i = 0; i < n; ++i) {
    // No statement ran twice: the takeover resumed at the statement the dead replica was in.
    EXPECT_EQ(Rows(i), "1,2,3") << Name(i);
    std::string last = Value(i, "SELECT actor || ' / ' || (detail->>'reason') FROM " + schema_ +
                                    ".events WHERE event = 'job.running' ORDER BY id DESC "
                                    "LIMIT 1");
    EXPECT_NE(last.find("pid " + std::to_string(second)), std::string::npos) << last;
    EXPECT_NE(last.find("taken over"), std::string::npos) << last;
  }
}

TEST_F(FleetWorkerTest, SigtermGivesEveryJobBackAndExitsZeroThenOnceFinishesThem) {
  constexpr int n = 3;
  WriteConfig(n);
  Migrations("INSERT INTO " + table_ + " VALUES (1);\nINSERT INTO " + table_ +
             " SELECT 2 FROM pg_sleep(5);\nINSERT INTO " + table_ + " VALUES (3);\n");
  ASSERT_EQ(Tandem({"release", "--target", "all"}).exit_code, 0);
  auto admin = Open("postgres");
  ASSERT_NE(admin, nullptr);
  pid_t worker = Start({"worker", "--target", "all", "--concurrency", "3"}, "worker.log");
  auto until = std::chrono::steady_clock::now() + 30s;
  while (WorkerSessions(*admin, "state = 'active' AND query LIKE '%pg_sleep(5)%'") < n &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(WorkerSessions(*admin, "state = 'active' AND query LIKE '%pg_sleep(5)%'"), n)
      << dir_.Read("worker.log");
  auto signalled = std::chrono::steady_clock::now();
  kill(worker, SIGTERM);
  auto code = WaitForExit(worker);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << dir_.Read("worker.log");
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 5s);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(Jobs(i, "status = 'queued'"), "1") << Name(i);
    EXPECT_EQ(Rows(i), "1") << Name(i);
    EXPECT_NE(Value(i, "SELECT detail->>'reason' FROM " + schema_ +
                           ".events WHERE event = 'job.queued' ORDER BY id DESC LIMIT 1")
                  .find("SIGTERM"),
              std::string::npos);
  }
  EXPECT_NE(dir_.Read("worker.log").find("fleet worker stopped by SIGTERM"), std::string::npos);
  // --once over the fleet resumes each at its recorded statement and reports every database.
  auto once = Tandem({"worker", "--target", "all", "--once"});
  EXPECT_EQ(once.exit_code, 0) << once.out << once.err;
  EXPECT_NE(once.out.find("worker on 3 databases: 3 ok"), std::string::npos) << once.out;
  EXPECT_NE(once.out.find("1 succeeded, 0 failed"), std::string::npos) << once.out;
  for (int i = 0; i < n; ++i) EXPECT_EQ(Rows(i), "1,2,3") << Name(i);
}

TEST_F(FleetWorkerTest, UnreachableTargetIsReportedAndTheRestGoOn) {
  constexpr int n = 2;
  WriteConfig(n, /*with_dead=*/true);
  Migrations("INSERT INTO " + table_ + " VALUES (1);\n");
  auto released = Tandem({"release", "--target", "all", "--max-failures", "5"});
  EXPECT_EQ(released.exit_code, 1) << released.out << released.err;
  auto once = Tandem({"worker", "--target", "all", "--once", "--format", "json"});
  EXPECT_EQ(once.exit_code, 1) << once.out << once.err;
  auto report = nlohmann::json::parse(once.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << once.out;
  std::map<std::string, std::string> outcomes;
  for (const auto& t : report["targets"]) outcomes[t["target"]] = t["outcome"];
  EXPECT_EQ(outcomes["dead"], "unreachable");
  EXPECT_EQ(outcomes[Name(0)], "ok");
  EXPECT_EQ(outcomes[Name(1)], "ok");
  EXPECT_EQ(report["fleet"]["succeeded"], 2);
  for (int i = 0; i < n; ++i) EXPECT_EQ(Rows(i), "1");

  // The daemon: the dead target is logged once, and the others are served all the same.
  Migration("3_more.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO " + table_ + " VALUES (2);\n");
  EXPECT_EQ(Tandem({"release", "--target", "all", "--max-failures", "5"}).exit_code, 1);
  pid_t worker = Start({"worker", "--target", "all", "--concurrency", "2"}, "worker.log");
  bool done = WaitForJobs(n, "status = 'succeeded'", "2", 30s);
  kill(worker, SIGTERM);
  auto code = WaitForExit(worker);
  ASSERT_TRUE(done) << dir_.Read("worker.log");
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  for (int i = 0; i < n; ++i) EXPECT_EQ(Rows(i), "1,2");
  std::string log = dir_.Read("worker.log");
  EXPECT_NE(log.find("database unreachable"), std::string::npos) << log;
  EXPECT_NE(log.find("target=dead"), std::string::npos) << log;

  auto unknown = Tandem({"worker", "--target", "nope", "--once"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.err;
  EXPECT_NE(unknown.err.find("unknown target"), std::string::npos) << unknown.err;
}

// A database whose jobs cannot run (a failed job blocks the next) is probed, not served again
// and again, and holds no session between probes.
TEST_F(FleetWorkerTest, ABlockedDatabaseIsProbedNotServedAndHoldsNoSession) {
  WriteConfig(1);
  Migrations("INSERT INTO nope VALUES (1);\n");
  Migration("3_later.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO " + table_ + " VALUES (3);\n");
  ASSERT_EQ(Tandem({"release", "--target", "all"}).exit_code, 0);
  pid_t worker = Start({"worker", "--target", "all"}, "worker.log");
  bool failed = WaitForJobs(1, "status = 'failed'", "1", 30s);
  // Three probe intervals.
  std::this_thread::sleep_for(6s);
  auto admin = Open("postgres");
  ASSERT_NE(admin, nullptr);
  int sessions = WorkerSessions(*admin, "application_name <> 'tandem worker probe'");
  kill(worker, SIGTERM);
  auto code = WaitForExit(worker);
  ASSERT_TRUE(failed) << dir_.Read("worker.log");
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(sessions, 0);
  std::string log = dir_.Read("worker.log");
  size_t runs = 0;
  for (size_t at = 0; (at = log.find("active: this worker runs", at)) != std::string::npos; ++at) {
    ++runs;
  }
  // The run that failed the job, one more that found nothing runnable (that run changed
  // something, so the next probe could not know), and none after it while nothing changed.
  EXPECT_EQ(runs, 2u) << log;
  EXPECT_EQ(Jobs(0, "status = 'queued'"), "1");
}

TEST_F(FleetWorkerTest, NotificationsNameTheTargetAndHealthCountsTheFleet) {
  constexpr int n = 2;
  HttpReceiver receiver;
  WriteConfig(n, /*with_dead=*/true,
              "[[notify]]\nkind = \"webhook\"\nurl_env = \"HOOK\"\nevents = [\"succeeded\"]\n");
  Migrations("INSERT INTO " + table_ + " VALUES (1);\n");
  EXPECT_EQ(Tandem({"release", "--target", "all", "--max-failures", "5"}).exit_code, 1);
  pid_t worker = Start({"worker", "--target", "all", "--http", "127.0.0.1:0"}, "worker.log",
                       {"HOOK=" + receiver.Url("/hooks/SECRET123")});
  bool done = WaitForJobs(n, "status = 'succeeded'", "1", 30s);
  int port = 0;
  for (int i = 0; i < 200 && port == 0; ++i) {
    std::string log = dir_.Read("worker.log");
    size_t at = log.find("on http://127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(log.c_str() + at + 20);
    std::this_thread::sleep_for(20ms);
  }
  bool notified = receiver.WaitForRequests(n, 10s);
  auto health = nlohmann::json::parse(HttpGet(port, "/healthz"), nullptr, false);
  std::string metrics = HttpGet(port, "/metrics");
  // The dashboard beside them, for the same targets (loopback: no token needed to read).
  auto targets = nlohmann::json::parse(HttpGet(port, "/api/targets"), nullptr, false);
  kill(worker, SIGTERM);
  auto code = WaitForExit(worker);
  ASSERT_TRUE(done) << dir_.Read("worker.log");
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  ASSERT_TRUE(notified) << dir_.Read("worker.log");
  std::set<std::string> seen;
  for (const auto& r : receiver.Requests()) {
    auto body = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_EQ(body["type"], "job.succeeded") << r.body;
    for (int i = 0; i < n; ++i) {
      if (r.body.find(Name(i)) != std::string::npos) seen.insert(Name(i));
    }
  }
  EXPECT_EQ(seen.size(), 2u);  // one per database, each naming its target
  ASSERT_TRUE(health.is_object()) << port;
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["targets"], "3");
  EXPECT_EQ(health["unreachable"], "1");
  EXPECT_EQ(health["unreachable_targets"], "dead");
  EXPECT_NE(metrics.find("does not serve /metrics"), std::string::npos) << metrics;
  std::string names = targets.dump();
  for (int i = 0; i < n; ++i) EXPECT_NE(names.find(Name(i)), std::string::npos) << names;
  EXPECT_NE(names.find("dead"), std::string::npos) << names;
  EXPECT_EQ(dir_.Read("worker.log").find("SECRET123"), std::string::npos);
}

}  // namespace
}  // namespace tandem::testing
