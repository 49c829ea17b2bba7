// `tandem release` against the real server, through the real binary: lock-timeout retries with
// a real blocking session, the retry budget running out, a failing statement, ten releases at
// once, post-deploy and background migrations queued for the worker, and --plan.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "testing/harness.h"

namespace tandem::testing {
namespace {

using std::chrono::milliseconds;

// A session that read the table and keeps its transaction open: what an ALTER queues behind.
class BlockingSession {
 public:
  BlockingSession(std::unique_ptr<pg::Connection> connection, const std::string& table,
                  const std::string& isolation = "READ COMMITTED")
      : connection_(std::move(connection)) {
    EXPECT_TRUE(connection_->Exec("SET application_name = 'blocking-report'").ok());
    EXPECT_TRUE(connection_->Exec("BEGIN ISOLATION LEVEL " + isolation).ok());
    EXPECT_TRUE(connection_->Exec("SELECT count(*) FROM " + table).ok());
  }
  ~BlockingSession() {
    if (committer_.joinable()) committer_.join();
  }
  int pid() const { return connection_->backend_pid(); }
  void CommitAfter(milliseconds delay) {
    committer_ = std::thread([this, delay] {
      std::this_thread::sleep_for(delay);
      EXPECT_TRUE(connection_->Exec("COMMIT").ok());
    });
  }

 private:
  std::unique_ptr<pg::Connection> connection_;
  std::thread committer_;
};

class ReleaseTest : public PgTest {
 protected:
  std::vector<std::string> Env() { return {"TANDEM_DATABASE_URL=" + url()}; }
  ProcessOutput Release(std::vector<std::string> args = {}) {
    args.insert(args.begin(), "release");
    return RunTandem(args, dir_.path().string(), Env());
  }
  nlohmann::json ReleaseJson(std::vector<std::string> args, ProcessOutput* raw = nullptr) {
    args.insert(args.begin(), {"--format", "json"});
    ProcessOutput r = Release(args);
    if (raw) *raw = r;
    auto json = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(json.is_discarded()) << r.out << r.err;
    return json;
  }
  // A table the blocker can read, created by a first release.
  void CreateTable() {
    dir_.Write("db/migrations/001_create_t.sql",
               "-- migrate:up\nCREATE TABLE t (id int PRIMARY KEY, v int);\n"
               "INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;\n");
    auto r = Release();
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  TempDir dir_;
};

TEST_F(ReleaseTest, RetriesAfterLockTimeoutAndSucceedsOnceTheBlockerCommits) {
  CreateTable();
  dir_.Write("db/migrations/002_add_email.sql",
             "-- migrate:up\nALTER TABLE t ADD COLUMN email text;\n");
  BlockingSession blocker(Connect(), "t");
  blocker.CommitAfter(milliseconds(1500));
  auto start = std::chrono::steady_clock::now();
  ProcessOutput raw;
  auto json = ReleaseJson({"--lock-timeout", "100ms", "--retry-budget", "20s", "--backoff-initial",
                           "100ms", "--backoff-max", "400ms"},
                          &raw);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(raw.exit_code, 0) << raw.out << raw.err;
  EXPECT_GE(took, milliseconds(1400));
  EXPECT_EQ(QueryValue("SELECT count(*) FROM information_schema.columns WHERE table_name = 't' "
                       "AND column_name = 'email'"),
            "1");
  ASSERT_EQ(json["migrations"].size(), 1u);
  const auto& m = json["migrations"][0];
  EXPECT_EQ(m["action"], "applied");
  EXPECT_EQ(m["limits"]["lock_timeout_ms"], 100);
  EXPECT_GE(m["lock_timeouts"].get<int>(), 2);
  EXPECT_EQ(m["retries"].get<int>(), m["lock_timeouts"].get<int>());
  const auto& first = m["attempts"][0];
  EXPECT_EQ(first["result"], "lock-timeout");
  EXPECT_EQ(first["error"]["sqlstate"], "55P03");
  // Each attempt gave up close to its lock_timeout: no attempt waited unbounded.
  for (const auto& a : m["attempts"]) EXPECT_LT(a["duration_ms"].get<int>(), 600) << a.dump();
  ASSERT_FALSE(first["blockers"].empty()) << first.dump();
  EXPECT_EQ(first["blockers"][0]["pid"], blocker.pid());
  EXPECT_EQ(first["blockers"][0]["application_name"], "blocking-report");
  EXPECT_EQ(first["blockers"][0]["state"], "idle in transaction");
  EXPECT_EQ(first["waited_for"]["mode"], "AccessExclusiveLock");
  EXPECT_EQ(m["attempts"].back()["result"], "applied");
  EXPECT_EQ(QueryValue("SELECT status || ' ' || attempts FROM tandem.migrations "
                       "WHERE version = '002'"),
            "succeeded 1");
  // Rerun after success: nothing to do.
  auto again = Release();
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("nothing to do"), std::string::npos) << again.out;
}

TEST_F(ReleaseTest, BudgetSpentExitsOneNamesTheBlockersAndAppliesNothing) {
  CreateTable();
  dir_.Write("db/migrations/002_two_steps.sql",
             "-- migrate:up\nCREATE TABLE side (id int);\nALTER TABLE t ADD COLUMN email text;\n");
  BlockingSession blocker(Connect(), "t");
  auto start = std::chrono::steady_clock::now();
  auto r =
      Release({"--lock-timeout", "100ms", "--retry-budget", "1s", "--backoff-initial", "100ms"});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_LT(took, milliseconds(4000));
  EXPECT_NE(r.err.find("could not apply migration 002 (two_steps) within the retry budget of "
                       "1.0s"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("nothing of this migration was applied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("blocked by pid " + std::to_string(blocker.pid()) +
                       " (application_name \"blocking-report\", idle in transaction"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("SELECT count(*) FROM t"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("failed   002 two_steps"), std::string::npos) << r.out;
  // Nothing of the migration stayed, and the failure is on record.
  EXPECT_EQ(QueryValue("SELECT to_regclass('side') IS NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM information_schema.columns WHERE column_name = "
                       "'email'"),
            "0");
  EXPECT_EQ(QueryValue("SELECT status || ' ' || error_sqlstate || ' ' || error_line FROM "
                       "tandem.migrations WHERE version = '002'"),
            "failed 55P03 3");
  blocker.CommitAfter(milliseconds(0));
}

TEST_F(ReleaseTest, FailingStatementRollsBackIsRecordedAndTheRerunResumes) {
  dir_.Write("db/migrations/001_tx.sql",
             "-- migrate:up\nCREATE TABLE a (id int);\n\nINSERT INTO a (nope) VALUES (1);\n");
  auto r = Release();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("001_tx.sql:4:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("42703"), std::string::npos) << r.err;
  EXPECT_EQ(QueryValue("SELECT to_regclass('a') IS NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT status || ' ' || error_sqlstate || ' ' || error_line FROM "
                       "tandem.migrations WHERE version = '001'"),
            "failed 42703 4");
  dir_.Write("db/migrations/001_tx.sql",
             "-- migrate:up\nCREATE TABLE a (id int);\n\nINSERT INTO a (id) VALUES (1);\n");
  r = Release();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM a"), "1");

  // Transaction off: the statements before the failure stay and the rerun resumes after them.
  dir_.Write("db/migrations/002_steps.sql",
             "-- tandem:transaction off\n-- migrate:up\nCREATE TABLE b (id int);\n"
             "CREATE INDEX CONCURRENTLY b_missing ON b (missing);\nCREATE TABLE c (id int);\n");
  r = Release();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("002_steps.sql:4:"), std::string::npos) << r.err;
  EXPECT_EQ(QueryValue("SELECT status || ' ' || statements_done || ' ' || error_sqlstate FROM "
                       "tandem.migrations WHERE version = '002'"),
            "failed 1 42703");
  dir_.Write("db/migrations/002_steps.sql",
             "-- tandem:transaction off\n-- migrate:up\nCREATE TABLE b (id int);\n"
             "CREATE INDEX CONCURRENTLY b_id ON b (id);\nCREATE TABLE c (id int);\n");
  r = Release();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("resumed at statement 2"), std::string::npos) << r.out;
  EXPECT_EQ(QueryValue("SELECT to_regclass('c') IS NOT NULL"), "t");
}

// CREATE INDEX CONCURRENTLY waits for transactions with older snapshots; with lock_timeout it
// gives up, leaving an INVALID index, which release drops concurrently before retrying.
TEST_F(ReleaseTest, ConcurrentIndexIsRetriedPerStatementAndItsInvalidIndexDropped) {
  CreateTable();
  dir_.Write("db/migrations/002_index.sql",
             "-- tandem:transaction off\n-- migrate:up\nCREATE TABLE side (id int);\n"
             "CREATE INDEX CONCURRENTLY t_v_idx ON t (v);\n"
             "ALTER TABLE t ADD CONSTRAINT v_positive CHECK (v > 0) NOT VALID;\n");
  BlockingSession blocker(Connect(), "t", "REPEATABLE READ");
  blocker.CommitAfter(milliseconds(1500));
  ProcessOutput raw;
  auto json = ReleaseJson({"--lock-timeout", "150ms", "--retry-budget", "20s", "--backoff-initial",
                           "100ms", "--backoff-max", "300ms"},
                          &raw);
  ASSERT_EQ(raw.exit_code, 0) << raw.out << raw.err;
  const auto& m = json["migrations"][0];
  EXPECT_GE(m["lock_timeouts"].get<int>(), 1) << m.dump(2);
  bool retried_statement = false;
  for (const auto& a : m["attempts"]) {
    if (a["result"] == "lock-timeout") {
      EXPECT_GE(a["statement"].get<int>(), 2) << a.dump();
      retried_statement = true;
    }
  }
  EXPECT_TRUE(retried_statement);
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_index WHERE NOT indisvalid"), "0");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_indexes WHERE indexname = 't_v_idx'"), "1");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_constraint WHERE conname = 'v_positive'"), "1");
  // Statement 1 ran once: the retries were per statement, not from the top.
  EXPECT_EQ(QueryValue("SELECT status || ' ' || statements_done FROM tandem.migrations WHERE "
                       "version = '002'"),
            "succeeded 3");
}

TEST_F(ReleaseTest, TenReleasesAtOnceApplyEachMigrationExactlyOnce) {
  for (int i = 1; i <= 20; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "db/migrations/%03d_m%d.sql", i, i);
    std::string sql;
    if (i == 1) {
      sql =
          "-- migrate:up\nCREATE TABLE t (id int, v int);\n"
          "INSERT INTO t SELECT g, g FROM generate_series(1, 10000) g;\n";
    } else if (i % 5 == 0) {
      sql = "-- tandem:transaction off\n-- migrate:up\nCREATE INDEX CONCURRENTLY t_idx_" +
            std::to_string(i) + " ON t (v);\n";
    } else if (i % 7 == 0) {
      sql = "-- tandem:phase post-deploy\n-- migrate:up\nCREATE TABLE post" + std::to_string(i) +
            " (id int);\n";
    } else {
      sql = "-- migrate:up\nALTER TABLE t ADD COLUMN c" + std::to_string(i) + " int;\n";
    }
    dir_.Write(name, sql);
  }
  std::vector<std::thread> threads;
  std::vector<ProcessOutput> outputs(10);
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&, i] { outputs[i] = Release({"--lock-wait", "120s"}); });
  }
  for (auto& t : threads) t.join();
  int applied_lines = 0;
  for (const auto& o : outputs) {
    EXPECT_EQ(o.exit_code, 0) << o.out << o.err;
    std::istringstream lines(o.out);
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("applied ", 0) == 0) ++applied_lines;
  }
  EXPECT_EQ(applied_lines, 18);  // 20 files, two of them (007, 014) post-deploy
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events WHERE event = 'applied'"), "18");
  EXPECT_EQ(QueryValue("SELECT count(DISTINCT version) FROM tandem.events WHERE event = "
                       "'applied'"),
            "18");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events WHERE event = 'queued'"), "2");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.migrations WHERE status = 'succeeded' AND "
                       "attempts = 1"),
            "18");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_index WHERE NOT indisvalid"), "0");
}

TEST_F(ReleaseTest, PostDeployAndBackgroundAreQueuedNotRun) {
  dir_.Write("db/migrations/001_users.sql",
             "-- migrate:up\nCREATE TABLE users (id int PRIMARY KEY, email text, "
             "email_lower text);\n");
  dir_.Write("db/migrations/002_drop_old.sql",
             "-- tandem:phase post-deploy\n-- migrate:up\nCREATE TABLE post_marker (id int);\n");
  dir_.Write("db/migrations/003_backfill.sql",
             "-- tandem:phase background\n-- tandem:batch table=users key=id size=auto\n"
             "-- migrate:up\nUPDATE users SET email_lower = lower(email)\n"
             " WHERE id >= :batch_start AND id < :batch_end AND email_lower IS NULL;\n");
  auto r = Release();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("applied  001 users"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("queued for the worker:\n  post-deploy 002 drop_old\n"
                       "  background  003 backfill\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(QueryValue("SELECT to_regclass('users') IS NOT NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT to_regclass('post_marker') IS NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT string_agg(version || ' ' || phase || ' ' || status, ', ' ORDER "
                       "BY version) FROM tandem.migrations"),
            "001 pre-deploy succeeded, 002 post-deploy pending, 003 background pending");
  EXPECT_EQ(QueryValue("SELECT string_agg(version, ',' ORDER BY version) FROM tandem.events "
                       "WHERE event = 'queued'"),
            "002,003");
  // A second release queues nothing new and says what is still pending.
  r = Release();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nothing to do"), std::string::npos) << r.out;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events WHERE event = 'queued'"), "2");
}

TEST_F(ReleaseTest, FailedReleaseQueuesNothing) {
  dir_.Write("db/migrations/001_bad.sql", "-- migrate:up\nSELECT 1/0;\n");
  dir_.Write("db/migrations/002_post.sql",
             "-- tandem:phase post-deploy\n-- migrate:up\nCREATE TABLE p (id int);\n");
  auto r = Release();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("not queued for the worker (the release failed)"), std::string::npos)
      << r.out;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.migrations WHERE version = '002'"), "0");
}

TEST_F(ReleaseTest, PlanShowsPhasesAndTimeoutsAndChangesNothing) {
  dir_.Write("tandem.toml", "[release]\nlock_timeout = \"750ms\"\n");
  dir_.Write("db/migrations/001_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  dir_.Write("db/migrations/002_b.sql",
             "-- tandem:lock-timeout 2s\n-- tandem:transaction off\n-- migrate:up\n"
             "CREATE TABLE b (id int);\nCREATE INDEX CONCURRENTLY b_id ON b (id);\n");
  dir_.Write("db/migrations/003_c.sql",
             "-- tandem:phase post-deploy\n-- migrate:up\nDROP TABLE a;\n");
  auto r = Release({"--plan", "--retry-budget", "5min"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("(nothing is changed)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would apply  001 a"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pre-deploy, in a transaction, 1 statement\n"
                       "             lock_timeout 750ms, statement_timeout 15m00s"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("pre-deploy, transaction off, 2 statements\n"
                       "             lock_timeout 2.0s"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("retry budget 5m00s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would queue for the worker:\n  post-deploy 003 c"), std::string::npos)
      << r.out;
  auto json = ReleaseJson({"--plan"});
  EXPECT_EQ(json["plan"], true);
  EXPECT_EQ(json["migrations"][1]["limits"]["lock_timeout_ms"], 2000);
  EXPECT_EQ(json["queued"][0]["action"], "would-queue");
  // Nothing changed, not even the state schema.
  EXPECT_EQ(QueryValue("SELECT to_regnamespace('tandem') IS NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_class WHERE relname IN ('a', 'b')"), "0");
}

TEST_F(ReleaseTest, RefusesDriftAndZeroLockTimeoutBeforeChangingAnything) {
  dir_.Write("db/migrations/001_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  ASSERT_EQ(Release().exit_code, 0);
  dir_.Write("db/migrations/001_a.sql", "-- migrate:up\nCREATE TABLE a (id bigint);\n");
  dir_.Write("db/migrations/002_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n");
  auto r = Release();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("applied migrations were edited since they ran: 001"), std::string::npos)
      << r.err;
  EXPECT_EQ(QueryValue("SELECT to_regclass('b') IS NULL"), "t");
  r = Release({"--lock-timeout", "0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("lock_timeout must be greater than zero"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tandem::testing
