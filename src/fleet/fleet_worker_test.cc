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
#include "fleet/fleet_worker.h"
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

  // The port a worker started with --http 127.0.0.1:0 logged, 0 when it did not in 4 s.
  int PortOf(const std::string& log) {
    for (int i = 0; i < 200; ++i) {
      std::string text = dir_.Read(log);
      size_t at = text.find("on http://127.0.0.1:");
      if (at != std::string::npos) return std::atoi(text.c_str() + at + 20);
      std::this_thread::sleep_for(20ms);
    }
    return 0;
  }
  // The value of the sample `series` (name and labels, as written) in a /metrics body, or "".
  static std::string Sample(const std::string& metrics, const std::string& series) {
    size_t at = metrics.find("\n" + series + " ");
    if (at == std::string::npos) return "";
    at += series.size() + 2;
    return metrics.substr(at, metrics.find('\n', at) - at);
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
  // Each replica: at most concurrency + 4 sessions (fleet_worker.h).
  std::printf("peak sessions of two replicas with --concurrency 3 over %d databases: %d\n",
              kDatabases, peak.load());
  EXPECT_GT(peak.load(), 0);
  // One more may still be seen on a loaded machine (an exiting backend lingering for two
  // samples).
  EXPECT_LE(peak.load(), 2 * (3 + 4) + 1);
  std::string log = dir_.Read("a.log");
  EXPECT_NE(log.find("\"target\":\"db-"), std::string::npos) << log;
}

// The bound docs/fleet.md states: one replica holds at most concurrency + 4 sessions, whatever
// the fleet size (one more for the dashboard --http serves beside it). Every kind of session is
// in play: jobs that hold their session (pg_sleep), background jobs (two sessions each), a lock
// wait (the blocker watch), the reads of pause and cancel requests, and /metrics' sweep.
TEST_F(FleetWorkerTest, OneReplicaHoldsAtMostConcurrencyPlusFourSessions) {
  constexpr int kConcurrency = 2;
  WriteConfig(kDatabases, false, "[release]\nlock_timeout = \"200ms\"\n");
  Migration("1_create.sql", "-- migrate:up\nCREATE TABLE " + table_ + " (v int);\nINSERT INTO " +
                                table_ + " SELECT g FROM generate_series(10, 13) g;\n");
  Migration("2_job.sql",
            "-- tandem:phase post-deploy\n-- tandem:transaction off\n-- migrate:up\nINSERT INTO " +
                table_ + " SELECT 1 FROM pg_sleep(0.6);\nINSERT INTO " + table_ + " VALUES (2);\n");
  Migration("3_backfill.sql",
            "-- tandem:phase background\n-- tandem:batch table=" + table_ +
                " key=v size=1\n-- migrate:up\nUPDATE " + table_ + " SET v = v WHERE v >= " +
                ":batch_start AND v < :batch_end AND (SELECT 1 FROM pg_sleep(0.15)) = 1;\n");
  auto released = Tandem({"release", "--target", "all", "--concurrency", "4"});
  ASSERT_EQ(released.exit_code, 0) << released.out << released.err;

  // A lock held on the first database's table: its job waits, and the blocker watch connects.
  auto holder = Open(Database(0));
  ASSERT_NE(holder, nullptr);
  ASSERT_TRUE(holder->Exec("BEGIN").ok());
  ASSERT_TRUE(holder->Exec("LOCK TABLE " + table_ + " IN ACCESS EXCLUSIVE MODE").ok());

  std::atomic<bool> sampling{true};
  std::atomic<int> peak{0}, worker_peak{0};
  std::atomic<int> samples{0};
  std::thread sampler([&] {
    auto admin = Open("postgres");
    // Counts seen by two consecutive samples (see above): all of them, and the worker's alone
    // (without the dashboard's poller that --http serves beside it).
    int previous = 0, previous_worker = 0;
    while (admin && sampling) {
      int now = WorkerSessions(*admin);
      int now_worker = WorkerSessions(*admin, "application_name <> 'tandem dashboard'");
      peak = std::max(peak.load(), std::min(previous, now));
      worker_peak = std::max(worker_peak.load(), std::min(previous_worker, now_worker));
      previous = now;
      previous_worker = now_worker;
      ++samples;
      std::this_thread::sleep_for(5ms);
    }
  });
  pid_t worker = Start({"worker", "--target", "all", "--concurrency", std::to_string(kConcurrency),
                        "--http", "127.0.0.1:0", "--log-format", "json"},
                       "worker.log");
  // Held until the first database's job has waited for it a while (lock_timeout 200 ms).
  for (auto until = std::chrono::steady_clock::now() + 60s;
       Jobs(0, "status = 'running'") == "0" && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(holder->Exec("COMMIT").ok());
  bool done = WaitForJobs(kDatabases, "status = 'succeeded'", "2", 120s);
  sampling = false;
  sampler.join();
  kill(worker, SIGTERM);
  auto code = WaitForExit(worker);
  ASSERT_TRUE(done) << dir_.Read("worker.log");
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << dir_.Read("worker.log");
  for (int i = 0; i < kDatabases; ++i) EXPECT_EQ(Rows(i), "1,2,10,11,12,13") << Name(i);
  // The held lock was waited for: lock timeouts recorded on the first database's jobs.
  EXPECT_NE(Value(0, "SELECT coalesce(sum((detail->>'lock_timeouts')::int), 0) FROM " + schema_ +
                         ".events WHERE event LIKE 'job.%'"),
            "0");
  std::printf(
      "peak sessions of one replica with --concurrency %d over %d databases: %d, "
      "without the dashboard's: %d (%d samples)\n",
      kConcurrency, kDatabases, peak.load(), worker_peak.load(), samples.load());
  EXPECT_GE(worker_peak.load(), kConcurrency);
  EXPECT_LE(worker_peak.load(), kConcurrency + 4);
  EXPECT_LE(peak.load(), kConcurrency + 5);
}

// /metrics of a fleet worker reflects what runs: owned databases, running jobs (a background
// job too), the unreachable target, and each database's job metrics from the sweep.
TEST_F(FleetWorkerTest, MetricsShowTheFleetAndEachDatabasesJobs) {
  constexpr int n = 3;
  WriteConfig(n, /*with_dead=*/true);
  // The first two databases hold a post-deploy job in pg_sleep; the third runs a background job
  // of slow batches (each database has the same migrations: the sleeps depend on the database).
  Migration("1_create.sql", "-- migrate:up\nCREATE TABLE " + table_ + " (v int);\nINSERT INTO " +
                                table_ + " SELECT g FROM generate_series(1, 8) g;\n");
  Migration("2_job.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nSELECT pg_sleep(CASE WHEN "
            "current_database() IN ('fleetw_0', 'fleetw_1') THEN 8 ELSE 0 END);\n");
  Migration("3_backfill.sql",
            "-- tandem:phase background\n-- tandem:batch table=" + table_ +
                " key=v size=1\n-- migrate:up\nUPDATE " + table_ + " SET v = v WHERE v >= " +
                ":batch_start AND v < :batch_end AND (SELECT 1 FROM pg_sleep(CASE WHEN "
                "current_database() = 'fleetw_2' THEN 1 ELSE 0 END)) = 1;\n");
  EXPECT_EQ(Tandem({"release", "--target", "all", "--max-failures", "5"}).exit_code, 1);
  pid_t worker = Start({"worker", "--target", "all", "--concurrency", "3", "--http", "127.0.0.1:0"},
                       "worker.log");
  int port = PortOf("worker.log");
  ASSERT_NE(port, 0) << dir_.Read("worker.log");
  // A job running on each database, and the sweep that saw it running.
  std::string metrics;
  std::vector<int> running;
  auto until = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < until) {
    metrics = HttpGet(port, "/metrics");
    running.clear();
    for (int i = 0; i < n; ++i) {
      std::string in_db =
          Sample(metrics, "tandem_jobs{target=\"" + Name(i) + "\",state=\"running\"}");
      std::string job =
          Sample(metrics, "tandem_fleet_target_running_job{target=\"" + Name(i) + "\"}");
      if (!in_db.empty() && in_db != "0" && !job.empty() && job != "0") running.push_back(i);
    }
    if (running.size() == n) break;
    std::this_thread::sleep_for(200ms);
  }
  auto health = nlohmann::json::parse(HttpGet(port, "/healthz"), nullptr, false);
  ASSERT_EQ(running.size(), static_cast<size_t>(n)) << metrics << dir_.Read("worker.log");
  EXPECT_EQ(Sample(metrics, "tandem_fleet_targets"), "4") << metrics;
  EXPECT_EQ(Sample(metrics, "tandem_fleet_targets_owned"), "3") << metrics;
  EXPECT_EQ(Sample(metrics, "tandem_fleet_jobs_running"), "3") << metrics;
  EXPECT_EQ(Sample(metrics, "tandem_fleet_target_owned{target=\"dead\"}"), "0") << metrics;
  for (int i = 0; i < n; ++i) {
    // A job its database has running.
    std::string job =
        Sample(metrics, "tandem_fleet_target_running_job{target=\"" + Name(i) + "\"}");
    EXPECT_EQ(Value(i, "SELECT count(*) FROM " + schema_ +
                           ".jobs WHERE status = 'running' AND id = " + job),
              "1")
        << Name(i) << " " << job;
    EXPECT_EQ(Sample(metrics, "tandem_fleet_target_owned{target=\"" + Name(i) + "\"}"), "1");
  }
  // The third database's is its background job: WorkerState::running_job is set while a
  // background job runs (what /healthz reports).
  EXPECT_EQ(Sample(metrics, "tandem_fleet_target_running_job{target=\"" + Name(2) + "\"}"),
            Value(2, "SELECT id FROM " + schema_ + ".jobs WHERE version = '3'"))
      << metrics;
  ASSERT_TRUE(health.is_object());
  EXPECT_EQ(health["running_jobs"], "3") << health.dump();
  // No URL, host or password in the text.
  EXPECT_EQ(metrics.find("postgresql://"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("127.0.0.1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("# TYPE tandem_fleet_target_runs_total counter\n"), std::string::npos);

  bool done = WaitForJobs(n, "status = 'succeeded'", "2", 60s);
  // Once all are done, the next sweep shows it.
  auto applied = [&](int i) {
    return Sample(metrics, "tandem_jobs_applied_total{target=\"" + Name(i) + "\"}");
  };
  until = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < until) {
    metrics = HttpGet(port, "/metrics");
    // The dead target is probed once a slot is free (all three served the others until now).
    if (applied(0) == "2" && applied(1) == "2" && applied(2) == "2" &&
        Sample(metrics, "tandem_fleet_targets_unreachable") == "1") {
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  kill(worker, SIGTERM);
  auto code = WaitForExit(worker);
  ASSERT_TRUE(done) << dir_.Read("worker.log");
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(applied(i), "2") << metrics;
    EXPECT_EQ(Sample(metrics, "tandem_jobs{target=\"" + Name(i) + "\",state=\"running\"}"), "0");
  }
  EXPECT_EQ(Sample(metrics, "tandem_fleet_jobs_running"), "0") << metrics;
  EXPECT_EQ(Sample(metrics, "tandem_fleet_targets_owned"), "0") << metrics;
  EXPECT_EQ(Sample(metrics, "tandem_fleet_targets_unreachable"), "1") << metrics;
  EXPECT_EQ(Sample(metrics, "tandem_fleet_target_reachable{target=\"dead\"}"), "0") << metrics;
  EXPECT_EQ(Sample(metrics, "tandem_jobs{target=\"dead\",state=\"queued\"}"), "") << metrics;
}

// A fleet's workers keep no control session: a person's cancel is read on a short-lived
// session, and the running statement is cancelled within about a second all the same, while
// the other database's job runs on.
TEST_F(FleetWorkerTest, CancelOfARunningJobStopsItsStatementWithoutAControlSession) {
  constexpr int n = 2;
  WriteConfig(n);
  Migrations("SELECT pg_sleep(30);\n");
  ASSERT_EQ(Tandem({"release", "--target", "all"}).exit_code, 0);
  auto admin = Open("postgres");
  ASSERT_NE(admin, nullptr);
  pid_t worker = Start({"worker", "--target", "all", "--concurrency", "2"}, "worker.log");
  auto until = std::chrono::steady_clock::now() + 30s;
  while (WorkerSessions(*admin, "state = 'active' AND query LIKE '%pg_sleep(30)%'") < n &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(WorkerSessions(*admin, "state = 'active' AND query LIKE '%pg_sleep(30)%'"), n)
      << dir_.Read("worker.log");
  // One session per database served, no control sessions.
  EXPECT_EQ(WorkerSessions(*admin, "application_name = 'tandem'"), n);
  auto asked = std::chrono::steady_clock::now();
  auto cancel = Tandem({"jobs", "cancel", "1", "--target", Name(0)});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.out << cancel.err;
  bool cancelled = false;
  while (!(cancelled = Jobs(0, "status = 'cancelled'") == "1") &&
         std::chrono::steady_clock::now() - asked < 15s) {
    std::this_thread::sleep_for(20ms);
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - asked);
  std::string other = Jobs(1, "status = 'running'");
  kill(worker, SIGTERM);
  auto code = WaitForExit(worker);
  ASSERT_TRUE(cancelled) << dir_.Read("worker.log");
  std::printf("cancel of a running job on a fleet worker took effect after %lld ms\n",
              static_cast<long long>(took.count()));
  EXPECT_LT(took, 5s);
  EXPECT_EQ(other, "1");  // the other database's job ran on
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
}

// Label values are escaped as the text format requires.
TEST(FleetMetricsText, EscapesLabelValuesAndCountsTheFleet) {
  std::vector<fleet::FleetTargetState> targets(3);
  targets[0].name = "a\"b\\c\nd";
  targets[0].serving = true;
  targets[0].running_job = 42;
  targets[0].runs = 3;
  targets[1].name = "down";
  targets[1].unreachable = "connection refused";
  targets[2].name = "idle";
  targets[2].metrics = jobs::JobMetrics{};
  targets[2].metrics->jobs_by_state[0] = 5;
  std::string text = fleet::RenderFleetMetrics(targets);
  EXPECT_NE(text.find("\ntandem_fleet_target_running_job{target=\"a\\\"b\\\\c\\nd\"} 42\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\ntandem_fleet_targets 3\n"), std::string::npos);
  EXPECT_NE(text.find("\ntandem_fleet_targets_owned 1\n"), std::string::npos);
  EXPECT_NE(text.find("\ntandem_fleet_targets_unreachable 1\n"), std::string::npos);
  EXPECT_NE(text.find("\ntandem_fleet_jobs_running 1\n"), std::string::npos);
  EXPECT_NE(text.find("\ntandem_fleet_target_runs_total{target=\"down\"} 0\n"), std::string::npos);
  // Job metrics only for the target the sweep read.
  EXPECT_NE(text.find("tandem_jobs{target=\"idle\",state=\"queued\"} 5\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("tandem_jobs{target=\"down\""), std::string::npos);
  EXPECT_EQ(text.find("connection refused"), std::string::npos);
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
  EXPECT_NE(metrics.find("tandem_fleet_targets 3\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("tandem_fleet_target_reachable{target=\"dead\"} 0\n"), std::string::npos)
      << metrics;
  EXPECT_EQ(metrics.find("SECRET123"), std::string::npos);
  EXPECT_EQ(metrics.find("postgresql://"), std::string::npos) << metrics;
  std::string names = targets.dump();
  for (int i = 0; i < n; ++i) EXPECT_NE(names.find(Name(i)), std::string::npos) << names;
  EXPECT_NE(names.find("dead"), std::string::npos) << names;
  EXPECT_EQ(dir_.Read("worker.log").find("SECRET123"), std::string::npos);
}

}  // namespace
}  // namespace tandem::testing
