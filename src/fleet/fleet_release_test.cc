// A fleet on the real server: 50 databases created in the harness's cluster plus one target
// that refuses connections, released and read with the real `tandem` binary (fleet_fixture.h).
#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>

#include "fleet/fleet_fixture.h"
#include "testing/paths.h"

namespace tandem::testing {
namespace {

constexpr int kShards = 50;

class FleetTest : public FleetFixture {
 protected:
  static void SetUpTestSuite() { CreateShards("fleet_shard_", kShards); }
  static void TearDownTestSuite() { DropShards(); }

  // Peak sessions on the suite's databases, sampled from pg_stat_activity every few
  // milliseconds while `run` runs. `exclude_pid` is a session of the test's own. A count
  // counts when two consecutive samples both see it: a backend whose client has just closed
  // stays listed until it has exited, which on a loaded machine can overlap the next
  // database's connect for a sample (seen as 2 with --concurrency 1 in bench/fleet), while
  // every session tandem holds lasts at least a statement of the test's migrations.
  static int PeakConnections(const std::function<void()>& run, int exclude_pid = 0) {
    std::atomic<bool> done{false};
    std::atomic<int> peak{0};
    std::thread sampler([&] {
      auto c = Admin();
      std::string sql = "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE '" +
                        DatabasePattern() + "' AND pid <> " + std::to_string(exclude_pid);
      int previous = 0;
      while (!done) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        auto r = c->Query(sql);
        if (!r.ok()) continue;
        int now = static_cast<int>(r->GetInt(0, 0));
        peak = std::max(peak.load(), std::min(now, previous));
        previous = now;
      }
    });
    run();
    done = true;
    sampler.join();
    return peak.load();
  }
};

TEST_F(FleetTest, ReleaseAllAppliesEverywhereAndRerunWritesNothing) {
  WriteConfig("concurrency = 8\n");
  WriteMigrations();
  auto r = Tandem({"release", "--target", "all"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("release on 50 databases: 50 ok"), std::string::npos) << r.out;
  std::vector<std::string> events_before;
  for (int i = 0; i < kShards; ++i) {
    ASSERT_EQ(Applied(i), "2") << ShardName(i);
    events_before.push_back(Events(i));
  }
  // Resume: nothing to do anywhere, and nothing written (no event, no history row touched).
  std::string recorded_before =
      Value(7, "SELECT max(recorded_at)::text FROM " + schema_ + ".migrations");
  auto again = Tandem({"--format", "json", "release", "--target", "all"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  nlohmann::json report = Json(again);
  EXPECT_EQ(report["summary"]["ok"], 50);
  EXPECT_EQ(Entry(report, "shard-07")["nothing_to_do"], true);
  for (int i = 0; i < kShards; ++i) EXPECT_EQ(Events(i), events_before[i]) << ShardName(i);
  EXPECT_EQ(Value(7, "SELECT max(recorded_at)::text FROM " + schema_ + ".migrations"),
            recorded_before);
}

TEST_F(FleetTest, CanaryFailureStopsTheRolloutBeforeAnyOtherDatabase) {
  WriteConfig("canary = \"canary\"\nmax_failures = 10\n", {40, 41});
  WriteMigrations();
  // The canary shard-41 already has the table: its first migration fails there.
  ASSERT_TRUE(Open(Database(41))->Exec("CREATE TABLE " + table_ + " (x int)").ok());
  auto r = Tandem({"release", "--target", "all"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("the canary group failed: no other database was started"), std::string::npos)
      << r.out;
  // Failures first, named with their error.
  size_t failed_line = r.out.find("failed      shard-41");
  ASSERT_NE(failed_line, std::string::npos) << r.out;
  EXPECT_LT(failed_line, r.out.find("not-started"));
  EXPECT_NE(r.out.find("already exists", failed_line), std::string::npos) << r.out;
  EXPECT_EQ(Applied(40), "2");  // the other canary ran
  for (int i = 0; i < 40; ++i) EXPECT_EQ(Applied(i), "-1") << ShardName(i);
  EXPECT_EQ(Value(41, "SELECT count(*) FROM " + schema_ + ".migrations WHERE status = 'failed'"),
            "1");
  ASSERT_TRUE(Open(Database(41))->Exec("DROP TABLE " + table_).ok());
}

TEST_F(FleetTest, FailureInTheSecondWaveStopsNewStartsAndARerunResumes) {
  WriteConfig("concurrency = 4\nmax_failures = 1\n");
  WriteMigrations();
  ASSERT_TRUE(Open(Database(6))->Exec("CREATE TABLE " + table_ + " (x int)").ok());
  auto r = Tandem({"--format", "json", "release", "--target", "all"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  nlohmann::json report = Json(r);
  EXPECT_EQ(report["summary"]["failed"], 1);
  EXPECT_EQ(report["stopped"], true);
  EXPECT_EQ(Entry(report, "shard-06")["outcome"], "failed");
  EXPECT_NE(Entry(report, "shard-06")["error"]["message"].get<std::string>().find("already exists"),
            std::string::npos);
  // Databases start in the configured order, so those started are a prefix of it: shard-06
  // and everything before it, plus what the three other slots started while shard-06 ran (how
  // many depends on the machine's speed). After the failure nothing new starts.
  int started = report["summary"]["ok"].get<int>() + 1;
  EXPECT_GE(started, 7);
  EXPECT_LT(started, kShards);
  for (int i = 0; i < kShards; ++i) {
    if (i == 6) continue;
    if (i < started) {
      EXPECT_EQ(Entry(report, ShardName(i))["outcome"], "ok") << i;
      EXPECT_EQ(Applied(i), "2") << ShardName(i);
    } else {
      EXPECT_EQ(Entry(report, ShardName(i))["outcome"], "not-started") << i;
      EXPECT_EQ(Applied(i), "-1") << ShardName(i);  // never touched: not even the schema
    }
  }
  std::vector<std::string> events_before;
  for (int i = 0; i < 6; ++i) events_before.push_back(Events(i));

  // The problem fixed, the rerun finishes the fleet and writes nothing where it was done.
  ASSERT_TRUE(Open(Database(6))->Exec("DROP TABLE " + table_).ok());
  auto rerun = Tandem({"--format", "json", "release", "--target", "all"});
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  nlohmann::json second = Json(rerun);
  EXPECT_EQ(second["summary"]["ok"], 50);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(Events(i), events_before[i]) << ShardName(i);
    EXPECT_EQ(Entry(second, ShardName(i))["nothing_to_do"], true) << i;
  }
  for (int i = 0; i < kShards; ++i) EXPECT_EQ(Applied(i), "2") << ShardName(i);
}

TEST_F(FleetTest, ALockHeldOnOneShardSpendsItsBudgetWhileTheRestFinish) {
  WriteConfig("concurrency = 8\nmax_failures = 5\n", {}, false,
              "[release]\nlock_timeout = \"50ms\"\nretry_budget = \"1s\"\n"
              "backoff_initial = \"50ms\"\nbackoff_max = \"200ms\"\n");
  // The table exists everywhere; the migration alters it; shard-20's table is locked.
  for (int i = 0; i < kShards; ++i) {
    ASSERT_TRUE(Open(Database(i))->Exec("CREATE TABLE " + table_ + " (id bigint)").ok());
  }
  dir_.Write("db/migrations/1_column.sql",
             "-- migrate:up\nALTER TABLE " + table_ + " ADD COLUMN name text;\n");
  auto holder = Open(Database(20));
  ASSERT_TRUE(holder->Exec("BEGIN").ok());
  ASSERT_TRUE(holder->Exec("LOCK TABLE " + table_ + " IN ACCESS SHARE MODE").ok());
  auto r = Tandem({"--format", "json", "release", "--target", "all"});
  ASSERT_TRUE(holder->Exec("ROLLBACK").ok());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  nlohmann::json report = Json(r);
  EXPECT_EQ(report["summary"]["ok"], 49);
  EXPECT_EQ(report["summary"]["failed"], 1);
  const nlohmann::json& locked = Entry(report, "shard-20");
  EXPECT_EQ(locked["outcome"], "failed");
  EXPECT_EQ(locked["error"]["sqlstate"], "55P03") << locked.dump(2);
  ASSERT_FALSE(locked["migrations"].empty());
  EXPECT_GT(locked["migrations"][0]["attempts"].size(), 1u);  // it retried until the budget
  EXPECT_EQ(Value(20, "SELECT count(*) FROM information_schema.columns WHERE table_name = '" +
                          table_ + "' AND column_name = 'name'"),
            "0");
  for (int i = 0; i < kShards; ++i) {
    if (i != 20) {
      EXPECT_EQ(Applied(i), "1") << ShardName(i);
    }
  }
}

TEST_F(FleetTest, StatusMatrixReportsEveryDatabaseAndTheUnreachableOne) {
  WriteConfig("concurrency = 8\n", {}, true);
  WriteMigrations();
  auto half = Tandem({"release", "--target", "group:first-half"});
  ASSERT_EQ(half.exit_code, 0) << half.out << half.err;

  auto text = Tandem({"status", "--target", "all"});
  EXPECT_EQ(text.exit_code, 1) << text.out << text.err;  // one database could not be read
  EXPECT_NE(text.out.find("status on 51 databases: 50 ok, 1 unreachable"), std::string::npos)
      << text.out;
  EXPECT_LT(text.out.find("unreachable dead"), text.out.find("shard-00")) << text.out;
  EXPECT_NE(text.out.find("shard-00  applied 2  pending 0"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("shard-49  applied 0  pending 2  running 0  failed 0  drifted 0  "
                          "oldest pending 1"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("up to date: 25 of 50 databases that answered"), std::string::npos)
      << text.out;

  auto json = Tandem({"--format", "json", "status", "--target", "all"});
  EXPECT_EQ(json.exit_code, 1);
  nlohmann::json matrix = Json(json);
  EXPECT_EQ(matrix["summary"]["unreachable"], 1);
  EXPECT_EQ(Entry(matrix, "dead")["outcome"], "unreachable");
  EXPECT_EQ(Entry(matrix, "dead")["error"]["sqlstate"], "08001");
  EXPECT_EQ(Entry(matrix, "shard-03")["applied"], 2);
  EXPECT_EQ(Entry(matrix, "shard-30")["pending"], 2);
  EXPECT_EQ(Entry(matrix, "shard-30")["oldest_pending"], "1");
  EXPECT_EQ(matrix["fleet"]["databases_up_to_date"], 25);
  EXPECT_EQ(matrix["fleet"]["pending"], 50);

  // --exit-code: 1 when any database has work left, 0 when the chosen ones are up to date.
  auto done = Tandem({"status", "--target", "group:first-half", "--exit-code"});
  EXPECT_EQ(done.exit_code, 0) << done.out << done.err;
  auto behind = Tandem({"status", "--target", "shard-30", "--exit-code"});
  EXPECT_EQ(behind.exit_code, 1) << behind.out << behind.err;
}

TEST_F(FleetTest, UnreachableTargetIsReportedAndTheRestGoOn) {
  WriteConfig("concurrency = 8\nmax_failures = 2\n", {}, true);
  WriteMigrations();
  auto r = Tandem({"release", "--target", "all"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("release on 51 databases: 50 ok, 1 unreachable"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("unreachable dead"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("could not connect to database at 127.0.0.1:1"), std::string::npos) << r.out;
  for (int i = 0; i < kShards; ++i) EXPECT_EQ(Applied(i), "2") << ShardName(i);
}

// Connections open at once are bounded by the concurrency plus a small constant (the blocker
// watches' shared slots), whatever the fleet size: sampled from pg_stat_activity while every
// shard's release waits 200 ms in a migration, which is long enough for each database's
// blocker watch to want a connection.
TEST_F(FleetTest, ConnectionsAreBoundedByTheConcurrencyNotTheFleetSize) {
  WriteConfig("concurrency = 4\n");
  WriteMigrations("SELECT pg_sleep(0.2);\n");
  ProcessOutput r;
  int peak = PeakConnections([&] { r = Tandem({"release", "--target", "all"}); });
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::cerr << "peak connections to the shards with --concurrency 4: " << peak << "\n";
  EXPECT_GE(peak, 4);      // the sampler saw the rollout at work
  EXPECT_LE(peak, 4 + 2);  // kFleetExtraConnections (cli/fleet_command.h)
}

// The bound holds while a lock is held on one shard of a 20-database release (its retries
// keep a blocker watch wanting a connection the whole time), and that shard's report still
// names the session in the way.
TEST_F(FleetTest, ConnectionBoundHoldsWithALockHeldOnOneShardAndBlockersAreStillNamed) {
  std::set<int> twenty;
  for (int i = 0; i < 20; ++i) twenty.insert(i);
  // "canary" is only a group name here: [fleet] canary is not set.
  WriteConfig("concurrency = 4\nmax_failures = 5\n", twenty, false,
              "[release]\nlock_timeout = \"100ms\"\nretry_budget = \"1500ms\"\n"
              "backoff_initial = \"50ms\"\nbackoff_max = \"100ms\"\n");
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(Open(Database(i))->Exec("CREATE TABLE " + table_ + " (id bigint)").ok());
  }
  dir_.Write("db/migrations/1_column.sql", "-- migrate:up\nSELECT pg_sleep(0.2);\nALTER TABLE " +
                                               table_ + " ADD COLUMN name text;\n");
  auto holder = Open(Database(3));
  ASSERT_TRUE(holder->Exec("BEGIN").ok());
  ASSERT_TRUE(holder->Exec("LOCK TABLE " + table_ + " IN ACCESS SHARE MODE").ok());
  ProcessOutput r;
  int peak = PeakConnections(
      [&] {
        r = Tandem({"--format", "json", "release", "--target", "group:canary"});
      },
      holder->backend_pid());
  ASSERT_TRUE(holder->Exec("ROLLBACK").ok());
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  std::cerr << "peak connections, 20 databases, --concurrency 4, one shard locked: " << peak
            << "\n";
  nlohmann::json report = Json(r);
  // tandem's own count: databases in flight plus blocker-watch connections held at once.
  int held = report["peak_running"].get<int>() +
             report["fleet"]["peak_blocker_watch_connections"].get<int>();
  std::cerr << "held by tandem at most: " << held << "\n";
  EXPECT_LE(held, 4 + 2);
  EXPECT_GE(report["fleet"]["peak_blocker_watch_connections"].get<int>(), 1);
  // The server's view; one more for a backend whose client has closed and that is still
  // exiting (a loaded machine can keep it listed for two samples).
  EXPECT_GE(peak, 4);
  EXPECT_LE(peak, 4 + 2 + 1);
  EXPECT_EQ(report["summary"]["ok"], 19);
  const nlohmann::json& locked = Entry(report, "shard-03");
  EXPECT_EQ(locked["outcome"], "failed");
  EXPECT_EQ(locked["error"]["sqlstate"], "55P03") << locked.dump(2);
  // Named: the holder's pid among the blockers of the attempts, and in the error's detail.
  bool named = false;
  for (const auto& attempt : locked["migrations"][0]["attempts"]) {
    for (const auto& b : attempt["blockers"]) named |= b["pid"] == holder->backend_pid();
  }
  EXPECT_TRUE(named) << locked.dump(2);
  EXPECT_NE(locked["error"]["detail"].get<std::string>().find(
                "blocked by pid " + std::to_string(holder->backend_pid())),
            std::string::npos)
      << locked.dump(2);
}

// SIGTERM (a pod evicted mid-rollout): no new database starts, the statements in flight are
// cancelled and recorded as a single-database release records them, the report is printed,
// and the exit code is 128 + SIGTERM.
TEST_F(FleetTest, SigtermStopsNewStartsAndCancelsTheDatabasesInFlight) {
  WriteConfig("concurrency = 2\n");
  dir_.Write("db/migrations/1_slow.sql", "-- migrate:up\nSELECT pg_sleep(30);\n");
  SpawnOptions options;
  options.argv = {TANDEM_BINARY_PATH, "--format", "json", "release", "--target", "all"};
  options.env = {"DATABASE_URL=", "TANDEM_DATABASE_URL="};
  options.working_directory = dir_.path().string();
  options.output_path = (dir_.path() / "out.json").string();
  auto pid = Spawn(options);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  auto admin = Admin();
  std::string sleeping;
  for (int i = 0; i < 200 && sleeping != "2"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto r = admin->Query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'fleet\\_shard\\_%' "
        "AND query LIKE 'SELECT pg_sleep(30)%'");
    if (r.ok()) sleeping = r->Get(0, 0);
  }
  ASSERT_EQ(sleeping, "2");
  kill(*pid, SIGTERM);
  auto code = WaitForExit(*pid);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 128 + SIGTERM);
  nlohmann::json report = nlohmann::json::parse(dir_.Read("out.json"), nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << dir_.Read("out.json");
  EXPECT_EQ(report["summary"]["failed"], 2) << report.dump(2);
  EXPECT_EQ(report["summary"]["not_started"], 48);
  EXPECT_EQ(report["exit_code"], 128 + SIGTERM);
  int recorded_failed = 0;
  for (int i = 0; i < kShards; ++i) {
    if (CountIn(i, "migrations", "status = 'failed'") == "1") ++recorded_failed;
  }
  EXPECT_EQ(recorded_failed, 2);
  // Nothing left running on the server.
  EXPECT_EQ(Value(0,
                  "SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                  "'SELECT pg_sleep(30)%'"),
            "0");
}

// On a terminal, stderr carries a live progress line, redrawn in place and cleared before
// the table. `script` gives the command a pseudo-terminal.
TEST_F(FleetTest, ProgressLineOnATerminal) {
  WriteConfig("concurrency = 8\n");
  WriteMigrations("SELECT pg_sleep(0.1);\n");
  std::string command = std::string(TANDEM_BINARY_PATH) + " release --target all";
  auto r =
      RunAndCapture({"script", "-qec", command, "/dev/null"},
                    {"DATABASE_URL=", "TANDEM_DATABASE_URL=", "NO_COLOR=1"}, dir_.path().string());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0) << r->out;
  EXPECT_NE(r->out.find("\r\033[Krelease: 0 done, 1 running, 0 failed, 49 queued"),
            std::string::npos)
      << r->out;
  EXPECT_NE(r->out.find(" running, 0 failed, 0 queued"), std::string::npos) << r->out;
  // Cleared, then the table.
  EXPECT_NE(r->out.find("\r\033[Krelease on 50 databases: 50 ok"), std::string::npos) << r->out;
}

TEST_F(FleetTest, TargetsConfiguredAndNoneChosenIsRefused) {
  WriteConfig("concurrency = 8\n");
  WriteMigrations();
  for (const char* command : {"status", "release", "up"}) {
    auto r = Tandem({command});
    EXPECT_EQ(r.exit_code, 2) << command << r.out << r.err;
    EXPECT_NE(r.err.find("targets are configured: choose one with --target NAME, group:NAME "
                         "or all"),
              std::string::npos)
        << r.err;
  }
  auto zero = Tandem({"release", "--target", "all", "--concurrency", "0"});
  EXPECT_EQ(zero.exit_code, 2) << zero.out << zero.err;
  EXPECT_EQ(Applied(0), "-1");
  auto unknown = Tandem({"release", "--target", "shard-99"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown target \"shard-99\""), std::string::npos) << unknown.err;
  auto one = Tandem({"release", "--target", "shard-03"});
  EXPECT_EQ(one.exit_code, 0) << one.out << one.err;
  EXPECT_EQ(Applied(3), "2");
  EXPECT_EQ(Applied(4), "-1");
  // A URL given explicitly still works on one database.
  auto direct = Tandem({"--database-url", Url(5), "release"});
  EXPECT_EQ(direct.exit_code, 0) << direct.out << direct.err;
  EXPECT_EQ(Applied(5), "2");
}

}  // namespace
}  // namespace tandem::testing
