// The runner against the real server: the runner lock, concurrent runners with CREATE INDEX
// CONCURRENTLY, and a runner killed with SIGKILL in the middle of a migration.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "migrate/runner_lock.h"
#include "testing/harness.h"
#include "testing/paths.h"

namespace tandem::testing {
namespace {

class RunnerTest : public PgTest {
 protected:
  std::vector<std::string> Env() { return {"TANDEM_DATABASE_URL=" + url()}; }
  TempDir dir_;
};

TEST_F(RunnerTest, LockWaitRunsOutWithExit3NamingTheHolder) {
  dir_.Write("db/migrations/1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  auto holder = Connect();
  ASSERT_NE(holder, nullptr);
  migrate::LockKey key = migrate::RunnerLockKey("tandem");
  ASSERT_TRUE(holder
                  ->Exec("SELECT pg_advisory_lock($1, $2)",
                         {std::to_string(key.class_id), std::to_string(key.object_id)})
                  .ok());
  auto start = std::chrono::steady_clock::now();
  auto r = RunTandem({"up", "--lock-wait", "400ms"}, dir_.path().string(), Env());
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("could not take the runner lock within 400ms"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("held by pid " + std::to_string(holder->backend_pid())), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("application_name \"tandem\""), std::string::npos) << r.err;
  EXPECT_GE(waited, std::chrono::milliseconds(400));
  EXPECT_EQ(QueryValue("SELECT to_regclass('a') IS NULL"), "t");
  // Once the holder lets go, the next run goes through.
  holder.reset();
  EXPECT_EQ(RunTandem({"up"}, dir_.path().string(), Env()).exit_code, 0);
}

// `-- tandem:lock-timeout` applies to `tandem up` too, not only to release: behind a session
// that holds the table, the ALTER gives up after 200ms instead of queueing the app behind it.
TEST_F(RunnerTest, LockTimeoutDirectiveBoundsTheWaitOfUp) {
  dir_.Write("db/migrations/1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  ASSERT_EQ(RunTandem({"up"}, dir_.path().string(), Env()).exit_code, 0);
  dir_.Write("db/migrations/2_b.sql",
             "-- tandem:lock-timeout 200ms\n-- migrate:up\nALTER TABLE a ADD COLUMN b int;\n");
  auto reader = Connect();
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->Exec("BEGIN").ok());
  ASSERT_TRUE(reader->Exec("SELECT count(*) FROM a").ok());  // holds ACCESS SHARE
  auto start = std::chrono::steady_clock::now();
  auto r = RunTandem({"up"}, dir_.path().string(), Env());
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("canceling statement due to lock timeout"), std::string::npos) << r.err;
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_EQ(QueryValue("SELECT error_sqlstate FROM tandem.migrations WHERE version = '2'"),
            "55P03");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM information_schema.columns "
                       "WHERE table_name = 'a' AND column_name = 'b'"),
            "0");
  ASSERT_TRUE(reader->Exec("COMMIT").ok());
  EXPECT_EQ(RunTandem({"up"}, dir_.path().string(), Env()).exit_code, 0);
}

// Eight runners at once on 50 migrations, some building indexes CONCURRENTLY outside a
// transaction: every migration exactly once, no deadlock (a blocking pg_advisory_lock would
// deadlock with the CIC; polling pg_try_advisory_lock does not).
// Consecutive transactional migrations go to the server together (several per round trip,
// more than one sync chunk here). A failure in the 25th must leave the 24 before it applied,
// the 25th rolled back and recorded where it failed, and nothing after it run; a transaction-
// off migration in the middle still runs statement by statement, in its place.
TEST_F(RunnerTest, MigrationsSentTogetherStopAtTheFirstFailure) {
  auto version = [](int i) { return std::string(i < 10 ? "0" : "") + std::to_string(i); };
  for (int i = 1; i <= 30; ++i) {
    std::string t = "t" + std::to_string(i);
    std::string body = "-- migrate:up\nCREATE TABLE " + t + " (id int);\nINSERT INTO " + t +
                       " VALUES (" + std::to_string(i) + ");\n";
    if (i == 10) {
      body =
          "-- tandem:transaction off\n-- migrate:up\nCREATE TABLE t10 (id int);\n"
          "CREATE INDEX CONCURRENTLY t10_id ON t10 (id);\n";
    }
    if (i == 25)
      body = "-- migrate:up\nCREATE TABLE t25 (id int);\nINSERT INTO t25 VALUES ('x');\n";
    dir_.Write("db/migrations/" + version(i) + "_" + t + ".sql", body);
  }
  auto r = RunTandem({"up", "--format", "json"}, dir_.path().string(), Env());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto report = nlohmann::json::parse(r.out);
  ASSERT_EQ(report["migrations"].size(), 25u) << r.out;
  EXPECT_EQ(report["migrations"][23]["action"], "applied");
  EXPECT_EQ(report["migrations"][24]["action"], "failed");
  EXPECT_EQ(report["migrations"][24]["statements_done"], 0);
  EXPECT_EQ(report["migrations"][24]["error"]["line"], 3);
  EXPECT_EQ(report["migrations"][24]["error"]["sqlstate"], "22P02");
  EXPECT_EQ(QueryValue("SELECT string_agg(status || ':' || count, ',' ORDER BY status) FROM "
                       "(SELECT status, count(*) FROM tandem.migrations GROUP BY status) s"),
            "failed:1,succeeded:24");
  EXPECT_EQ(QueryValue("SELECT status || ' ' || error_line FROM tandem.migrations "
                       "WHERE version = '25'"),
            "failed 3");
  EXPECT_EQ(QueryValue("SELECT sum(id) FROM (SELECT id FROM t1 UNION ALL SELECT id FROM t24) s"),
            "25");
  EXPECT_EQ(QueryValue("SELECT to_regclass('t10_id') IS NOT NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT to_regclass('t25') IS NULL AND to_regclass('t26') IS NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events WHERE event = 'applied'"), "24");

  dir_.Write("db/migrations/25_t25.sql",
             "-- migrate:up\nCREATE TABLE t25 (id int);\nINSERT INTO t25 VALUES (25);\n");
  r = RunTandem({"up"}, dir_.path().string(), Env());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.migrations WHERE status = 'succeeded'"), "30");
  EXPECT_EQ(QueryValue("SELECT attempts FROM tandem.migrations WHERE version = '25'"), "2");
}

// A COPY among the migrations sent together makes the pipeline fall back to one statement at
// a time (pipeline mode cannot carry COPY); the outcome must be the same: the migration before
// it applied, the one whose server-side COPY fails rolled back, the one after it not run.
// (COPY FROM STDIN with inline rows: see HistoriesTest.CopyFromStdinWithInlineRows.)
TEST_F(RunnerTest, CopyAmongMigrationsSentTogetherStopsTheSameWay) {
  dir_.Write("db/migrations/1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  dir_.Write("db/migrations/2_b.sql",
             "-- migrate:up\nCREATE TABLE b (id int);\nCOPY b FROM '/nonexistent/b.csv';\n");
  dir_.Write("db/migrations/3_c.sql", "-- migrate:up\nCREATE TABLE c (id int);\n");
  auto r = RunTandem({"up"}, dir_.path().string(), Env());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("/nonexistent/b.csv"), std::string::npos) << r.err;
  EXPECT_EQ(QueryValue("SELECT string_agg(version || ':' || status, ',' ORDER BY version) "
                       "FROM tandem.migrations"),
            "1:succeeded,2:failed");
  EXPECT_EQ(QueryValue("SELECT error_line FROM tandem.migrations WHERE version = '2'"), "3");
  EXPECT_EQ(QueryValue("SELECT to_regclass('a') IS NOT NULL AND to_regclass('b') IS NULL AND "
                       "to_regclass('c') IS NULL"),
            "t");
}

// Sent together, each migration still gets its own notices and its own time.
TEST_F(RunnerTest, NoticesStayWithTheMigrationThatRaisedThem) {
  dir_.Write("db/migrations/1_a.sql",
             "-- migrate:up\nDO $$ BEGIN RAISE NOTICE 'from a'; END $$;\n");
  dir_.Write("db/migrations/2_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n");
  dir_.Write("db/migrations/3_c.sql",
             "-- migrate:up\nSELECT pg_sleep(0.2);\n"
             "DO $$ BEGIN RAISE WARNING 'from c'; END $$;\n");
  auto r = RunTandem({"up", "--format", "json"}, dir_.path().string(), Env());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto runs = nlohmann::json::parse(r.out)["migrations"];
  ASSERT_EQ(runs.size(), 3u) << r.out;
  EXPECT_EQ(runs[0]["notices"], nlohmann::json({"NOTICE: from a"}));
  EXPECT_FALSE(runs[1].contains("notices")) << r.out;
  EXPECT_EQ(runs[2]["notices"], nlohmann::json({"WARNING: from c"}));
  EXPECT_GE(runs[2]["duration_ms"].get<int>(), 200);
  EXPECT_LT(runs[0]["duration_ms"].get<int>(), 200);
}

// The pipeline is made and sent a window of 4,096 steps at a time (src/migrate/apply.cc), so
// migrations span windows: each still gets its own notices, the failing one is rolled back
// whole and named at its statement's line, and the one after it never runs.
TEST_F(RunnerTest, MigrationsSpanningPipelineWindowsKeepTheirOutcomes) {
  auto inserts = [](const std::string& table, int n, int bad) {
    std::string body = "-- migrate:up\nCREATE TABLE " + table + " (id int);\n";
    for (int i = 1; i <= n; ++i) {
      body +=
          "INSERT INTO " + table + " VALUES (" + (i == bad ? "'x'" : std::to_string(i)) + ");\n";
    }
    return body;
  };
  dir_.Write("db/migrations/1_a.sql",
             inserts("a", 5000, 0) + "DO $$ BEGIN RAISE NOTICE 'from a'; END $$;\n");
  std::string b = inserts("b", 3000, 0);
  b.insert(b.find("INSERT"), "DO $$ BEGIN RAISE NOTICE 'from b'; END $$;\n");
  dir_.Write("db/migrations/2_b.sql", b);
  dir_.Write("db/migrations/3_c.sql", inserts("c", 4000, 3500));
  dir_.Write("db/migrations/4_d.sql", "-- migrate:up\nCREATE TABLE d (id int);\n");
  auto r = RunTandem({"up", "--format", "json"}, dir_.path().string(), Env());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto runs = nlohmann::json::parse(r.out)["migrations"];
  ASSERT_EQ(runs.size(), 3u) << r.out;
  EXPECT_EQ(runs[0]["action"], "applied");
  EXPECT_EQ(runs[0]["notices"], nlohmann::json({"NOTICE: from a"}));
  EXPECT_EQ(runs[1]["action"], "applied");
  EXPECT_EQ(runs[1]["notices"], nlohmann::json({"NOTICE: from b"}));
  EXPECT_EQ(runs[2]["action"], "failed");
  EXPECT_EQ(runs[2]["statements_done"], 0);
  EXPECT_EQ(runs[2]["error"]["line"], 3 + 3499);
  EXPECT_EQ(runs[2]["error"]["sqlstate"], "22P02");
  EXPECT_EQ(QueryValue("SELECT (SELECT count(*) FROM a) || ',' || (SELECT count(*) FROM b)"),
            "5000,3000");
  EXPECT_EQ(QueryValue("SELECT to_regclass('c') IS NULL AND to_regclass('d') IS NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT string_agg(version || ':' || status, ',' ORDER BY version) "
                       "FROM tandem.migrations"),
            "1:succeeded,2:succeeded,3:failed");
}

TEST_F(RunnerTest, EightConcurrentRunnersApplyEachMigrationExactlyOnce) {
  for (int i = 1; i <= 50; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "db/migrations/%03d_m%d.sql", i, i);
    std::string sql;
    if (i == 1) {
      sql =
          "-- migrate:up\nCREATE TABLE t (id int, v int);\n"
          "INSERT INTO t SELECT g, g FROM generate_series(1, 20000) g;\n";
    } else if (i % 10 == 0) {
      sql = "-- tandem:transaction off\n-- migrate:up\nCREATE INDEX CONCURRENTLY t_idx_" +
            std::to_string(i) + " ON t (v);\n";
    } else {
      sql = "-- migrate:up\nCREATE TABLE t" + std::to_string(i) + " (id int);\n";
    }
    dir_.Write(name, sql);
  }
  std::vector<std::thread> threads;
  std::vector<ProcessOutput> outputs(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      outputs[i] = RunTandem({"up", "--lock-wait", "120s"}, dir_.path().string(), Env());
    });
  }
  for (auto& t : threads) t.join();
  int applied_lines = 0;
  for (const auto& o : outputs) {
    EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
    EXPECT_EQ(o.err.find("deadlock"), std::string::npos) << o.err;
    for (size_t pos = o.out.find("applied "); pos != std::string::npos;
         pos = o.out.find("applied ", pos + 1))
      ++applied_lines;
  }
  EXPECT_EQ(applied_lines, 50);
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events WHERE event = 'applied'"), "50");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.migrations WHERE status = 'succeeded' AND "
                       "attempts = 1"),
            "50");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_index WHERE NOT indisvalid"), "0");
}

// kill -9 of the runner in the middle of a migration: the lock dies with the session, the
// state is consistent, and the next run completes.
TEST_F(RunnerTest, KilledRunnerLeavesConsistentStateAndTheNextRunCompletes) {
  dir_.Write("db/migrations/1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  dir_.Write("db/migrations/2_slow_tx.sql",
             "-- migrate:up\nCREATE TABLE b (id int);\nSELECT pg_sleep(30);\n");
  dir_.Write("db/migrations/3_slow_steps.sql",
             "-- tandem:transaction off\n-- migrate:up\nCREATE TABLE c (id int);\n"
             "SELECT pg_sleep(30);\nCREATE TABLE d (id int);\n");
  auto run_and_kill = [&](const std::string& wait_for_sql) {
    SpawnOptions options;
    options.argv = {TANDEM_BINARY_PATH, "up"};
    options.env = Env();
    options.working_directory = dir_.path().string();
    options.output_path = (dir_.path() / "runner.log").string();
    auto pid = Spawn(options);
    ASSERT_TRUE(pid.ok());
    // Wait until the runner is inside the sleep, then kill it without warning.
    for (int i = 0; i < 200; ++i) {
      if (QueryValue(wait_for_sql) == "t") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(QueryValue(wait_for_sql), "t") << "the runner never reached the sleep";
    kill(*pid, SIGKILL);
    WaitForExit(*pid);
    // Its backend notices the dead client at the next write; cancel the sleep so it does now.
    QueryValue(
        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = "
        "'tandem' AND query LIKE 'SELECT pg_sleep%'");
    for (int i = 0; i < 100; ++i) {
      if (QueryValue("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == "0") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), "0");
  };
  const std::string sleeping =
      "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE "
      "'SELECT pg_sleep%' AND state = 'active'";
  run_and_kill(sleeping);
  // Transactional: nothing of migration 2 stayed.
  EXPECT_EQ(QueryValue("SELECT to_regclass('b') IS NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.migrations WHERE version = '2'"), "0");

  dir_.Write("db/migrations/2_slow_tx.sql", "-- migrate:up\nCREATE TABLE b (id int);\n");
  run_and_kill(sleeping);
  // Transaction off: statement 1 is recorded as done, the row says the run was interrupted.
  EXPECT_EQ(QueryValue("SELECT status || ' ' || statements_done FROM tandem.migrations WHERE "
                       "version = '3'"),
            "running 1");
  auto status = RunTandem({"status"}, dir_.path().string(), Env());
  EXPECT_NE(status.out.find("interrupted"), std::string::npos) << status.out;

  dir_.Write("db/migrations/3_slow_steps.sql",
             "-- tandem:transaction off\n-- migrate:up\nCREATE TABLE c (id int);\n"
             "SELECT pg_sleep(0);\nCREATE TABLE d (id int);\n");
  auto r = RunTandem({"up"}, dir_.path().string(), Env());
  // Statement 2 was edited, but it never completed, so the resume is allowed.
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("resumed at statement 2"), std::string::npos) << r.out;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.migrations WHERE status = 'succeeded'"), "3");
}

}  // namespace
}  // namespace tandem::testing
