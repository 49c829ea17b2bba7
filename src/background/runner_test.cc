// Background migrations against the real server, through the real binary: a counter column
// proves each batch runs exactly once across kill -9 of the worker at random moments and SIGTERM;
// people pause, resume, cancel and retry at batch boundaries; a timed-out batch is split; a
// failing one fails the job with its key range; size=auto grows the batches; ctid, uuid, numeric
// and timestamp keys, text and composite keys in closed ranges; throttling by a probe and by a
// blocked app query.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>

#include "pg/connection.h"
#include "pg/url.h"
#include "testing/harness.h"
#include "testing/project_test.h"

namespace tandem::testing {
namespace {

using namespace std::chrono_literals;

class BackgroundTest : public ProjectTest {
 protected:
  void SetUp() override {
    ProjectTest::SetUp();
    // A standby polls for the worker lock every 100 ms, so takeovers are quick.
    Config("");
  }
  void Config(const std::string& background) {
    dir_.Write("tandem.toml", "[worker]\npoll_interval = \"100ms\"\nmax_attempts = 3\n" +
                                  (background.empty() ? "" : "[background]\n" + background));
  }
  using ProjectTest::Start;
  // A worker daemon, its output in `log`.
  pid_t Start(const std::string& log) { return ProjectTest::Start({"worker"}, log); }
  // A table t of `rows` rows whose counter n every batch adds one to, and the migration
  // that does it: `sleep` seconds per batch, so that kills and requests land mid-run.
  void CounterMigration(int rows, const std::string& size, const std::string& sleep,
                        const std::string& extra = "") {
    dir_.Write("db/migrations/1_table.sql",
               "-- migrate:up\nCREATE TABLE t (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0);\n"
               "INSERT INTO t (id) SELECT g FROM generate_series(1, " +
                   std::to_string(rows) + ") g;\n");
    dir_.Write(
        "db/migrations/2_count.sql",
        "-- tandem:phase background\n-- tandem:batch table=t key=id size=" + size +
            "\n-- migrate:up\nWITH pause AS (SELECT pg_sleep(" + sleep +
            "))\nUPDATE t SET n = n + 1 FROM pause\n WHERE id >= :batch_start AND id < :batch_end" +
            extra + ";\n");
    auto release = Tandem({"release"});
    ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  }
  std::string Progress(const std::string& field) {
    return QueryValue("SELECT progress->>'" + field + "' FROM tandem.jobs WHERE version = '2'");
  }
  std::string Status() { return QueryValue("SELECT status FROM tandem.jobs WHERE version = '2'"); }
  // How rows stand: "rows=N wrong=M" where wrong counts rows whose counter is not 1.
  std::string Counters() {
    return QueryValue(
        "SELECT 'rows=' || count(*) || ' wrong=' || count(*) FILTER (WHERE n <> 1) FROM t");
  }
};

TEST_F(BackgroundTest, EveryRowOnceAcrossKill9AtRandomMomentsAndSigterm) {
  CounterMigration(40'000, "200", "0.01");
  EXPECT_EQ(Status(), "queued");
  std::random_device device;
  unsigned seed = device();
  std::mt19937 random(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::uniform_int_distribution<int> moment(0, 250);
  long long before = 0;
  for (int kill_number = 0; kill_number < 4; ++kill_number) {
    pid_t worker = Start("worker" + std::to_string(kill_number) + ".log");
    ASSERT_TRUE(WaitFor("SELECT coalesce((progress->>'batches')::int, 0) > " +
                        std::to_string(before) + " FROM tandem.jobs WHERE version = '2'"));
    std::this_thread::sleep_for(std::chrono::milliseconds(moment(random)));
    kill(worker, SIGKILL);
    ASSERT_TRUE(WaitForExit(worker).ok());
    before = std::stoll(Progress("batches"));
    ASSERT_LT(before, 200) << "the job finished before the kills: make the batches slower";
    // Nothing committed without its cursor, nothing covered twice.
    EXPECT_EQ(QueryValue("SELECT count(*) FILTER (WHERE n > 1) || ' ' || "
                         "count(*) FILTER (WHERE n = 1) FROM t"),
              "0 " + Progress("rows_done"));
  }
  // SIGTERM: the batch in flight rolls back (or commits with its cursor), the job is given back.
  pid_t worker = Start("sigterm.log");
  ASSERT_TRUE(WaitFor("SELECT (progress->>'batches')::int > " + std::to_string(before) +
                      " FROM tandem.jobs WHERE version = '2'"));
  std::this_thread::sleep_for(std::chrono::milliseconds(moment(random)));
  kill(worker, SIGTERM);
  auto code = WaitForExit(worker);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(Status(), "queued");
  EXPECT_NE(dir_.Read("sigterm.log").find("stopped by SIGTERM"), std::string::npos)
      << dir_.Read("sigterm.log");
  EXPECT_EQ(QueryValue("SELECT count(*) FILTER (WHERE n = 1) FROM t"), Progress("rows_done"));

  auto finish = Tandem({"worker", "--once"});
  EXPECT_EQ(finish.exit_code, 0) << finish.err;
  EXPECT_EQ(Status(), "succeeded");
  EXPECT_EQ(Counters(), "rows=40000 wrong=0");
  EXPECT_EQ(QueryValue("SELECT status FROM tandem.migrations WHERE version = '2'"), "succeeded");
  EXPECT_EQ(Progress("rows_done"), "40000");
  EXPECT_EQ(Progress("batches"), "200");
  EXPECT_EQ(Progress("done"), "true");
  // Every takeover is on record.
  EXPECT_GE(std::stoi(QueryValue("SELECT count(*) FROM tandem.events WHERE event = "
                                 "'job.running' AND detail->>'reason' LIKE 'taken over%'")),
            1);

  auto list = Tandem({"jobs", "list"});
  EXPECT_NE(list.out.find("40,000 of ~40,000 rows (100%)"), std::string::npos) << list.out;
  auto show = Tandem({"jobs", "show", QueryValue("SELECT id FROM tandem.jobs WHERE version='2'"),
                      "--format", "json"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  auto json = nlohmann::json::parse(show.out);
  EXPECT_EQ(json["progress"]["rows_done"], 40000);
  EXPECT_EQ(json["progress"]["min"], 1);
  EXPECT_EQ(json["progress"]["max"], 40000);
  EXPECT_EQ(json["batch"]["size"], 200);
}

TEST_F(BackgroundTest, PauseResumeCancelRetryAtBatchBoundaries) {
  CounterMigration(6000, "100", "0.02");
  std::string id = QueryValue("SELECT id FROM tandem.jobs WHERE version = '2'");
  pid_t worker = Start("worker.log");
  ASSERT_TRUE(WaitFor("SELECT (progress->>'batches')::int >= 3 FROM tandem.jobs"));
  auto pause = Tandem({"jobs", "pause", id});
  ASSERT_EQ(pause.exit_code, 0) << pause.err;
  // Within one batch (20 ms) the worker stops it, at a boundary.
  ASSERT_TRUE(WaitFor("SELECT status = 'paused' FROM tandem.jobs", 5s));
  std::string paused_at = Progress("rows_done");
  EXPECT_EQ(QueryValue("SELECT count(*) FILTER (WHERE n = 1) || ' ' || "
                       "count(*) FILTER (WHERE n > 1) FROM t"),
            paused_at + " 0");
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(Progress("rows_done"), paused_at);  // it really stopped
  auto show = Tandem({"jobs", "show", id});
  EXPECT_NE(show.out.find("of ~6,000 rows"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("tandem jobs resume " + id), std::string::npos) << show.out;

  ASSERT_EQ(Tandem({"jobs", "resume", id}).exit_code, 0);
  ASSERT_TRUE(WaitFor("SELECT (progress->>'rows_done')::int > " + paused_at +
                      " FROM tandem.jobs WHERE status = 'running'"));
  ASSERT_EQ(Tandem({"jobs", "cancel", id}).exit_code, 0);
  ASSERT_TRUE(WaitFor("SELECT status = 'cancelled' FROM tandem.jobs", 5s));
  std::string cancelled_at = Progress("rows_done");
  EXPECT_LT(std::stoll(cancelled_at), 6000);
  EXPECT_EQ(QueryValue("SELECT count(*) FILTER (WHERE n = 1) FROM t"), cancelled_at);

  // Retried, it goes on from its cursor.
  ASSERT_EQ(Tandem({"jobs", "retry", id}).exit_code, 0);
  ASSERT_TRUE(WaitFor("SELECT status = 'succeeded' FROM tandem.jobs"));
  kill(worker, SIGTERM);
  ASSERT_TRUE(WaitForExit(worker).ok());
  EXPECT_EQ(Counters(), "rows=6000 wrong=0");
  EXPECT_EQ(QueryValue("SELECT string_agg(event, ',' ORDER BY id) FROM tandem.events WHERE "
                       "event LIKE 'job.%' AND version = '2'"),
            "job.queued,job.running,job.pause-requested,job.paused,job.queued,job.running,"
            "job.cancel-requested,job.cancelled,job.queued,job.running,job.succeeded");
}

TEST_F(BackgroundTest, ATimedOutBatchIsSplitInHalfUntilItFits) {
  Config("statement_timeout = \"400ms\"\n");
  // 1 ms a row: the first batch (600 rows) takes 600 ms, over the timeout; 250 fit.
  dir_.Write("db/migrations/1_table.sql",
             "-- migrate:up\nCREATE TABLE t (id int PRIMARY KEY, n int NOT NULL DEFAULT 0);\n"
             "INSERT INTO t (id) SELECT g FROM generate_series(1, 600) g;\n"
             "CREATE FUNCTION slow() RETURNS boolean LANGUAGE plpgsql AS "
             "$$BEGIN PERFORM pg_sleep(0.001); RETURN true; END$$;\n");
  dir_.Write("db/migrations/2_count.sql",
             "-- tandem:phase background\n-- tandem:batch table=t key=id size=1000\n"
             "-- migrate:up\nUPDATE t SET n = n + 1 WHERE id >= :batch_start AND id < :batch_end "
             "AND slow();\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  auto run = Tandem({"worker", "--once"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Status(), "succeeded");
  EXPECT_EQ(Counters(), "rows=600 wrong=0");
  // 600 rows take 600 ms and 500 take 500 ms: at least two halvings (1000 -> 500 -> 250), more
  // on a slow machine where pg_sleep oversleeps; the size is always the halved one.
  int splits = std::stoi(Progress("splits"));
  EXPECT_GE(splits, 2);
  EXPECT_EQ(std::stoi(Progress("batch_size")), 1000 >> splits);
}

TEST_F(BackgroundTest, AFailingBatchFailsTheJobWithItsKeyRangeAndItsError) {
  CounterMigration(1000, "100", "0", " AND 1 / (id - 450) IS NOT NULL");
  auto run = Tandem({"worker", "--once"});
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(Status(), "failed");
  EXPECT_EQ(QueryValue("SELECT error_sqlstate || ' ' || error_message || ' ' || error_line FROM "
                       "tandem.jobs WHERE version = '2'"),
            "22012 division by zero 4");
  EXPECT_EQ(QueryValue("SELECT detail->>'reason' FROM tandem.events WHERE event = 'job.failed'"),
            "the batch [401, 501) failed");
  // The batches before it committed, once; the failing one left nothing behind.
  EXPECT_EQ(QueryValue("SELECT count(*) FILTER (WHERE n = 1 AND id <= 400) || ' ' || "
                       "count(*) FILTER (WHERE n <> 0 AND id > 400) FROM t"),
            "400 0");
  EXPECT_EQ(Progress("cursor"), "401");
}

TEST_F(BackgroundTest, SizeAutoGrowsTowardTheTargetDuration) {
  Config("target_batch_duration = \"100ms\"\n");
  CounterMigration(300'000, "auto", "0");
  auto run = Tandem({"worker", "--once"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Counters(), "rows=300000 wrong=0");
  // From 1,000 keys a batch, growing up to 4x a batch: far fewer than the 300 batches of a fixed
  // size (about 20 on a quiet machine; a loaded one makes every batch slower, so they grow less).
  EXPECT_LT(std::stoi(Progress("batches")), 100) << Progress("batch_size");
  EXPECT_GT(std::stoi(Progress("batch_size")), 4000);
}

TEST_F(BackgroundTest, CtidBlockRangesCoverATableWithoutAKeyOnce) {
  // fillfactor 50 and no index: every update is HOT, on the row's own block, so no row moves
  // ahead of the cursor (see docs/background.md on ctid and idempotent statements).
  dir_.Write("db/migrations/1_table.sql",
             "-- migrate:up\nCREATE TABLE t (id int, n int NOT NULL DEFAULT 0) "
             "WITH (fillfactor = 50);\n"
             "INSERT INTO t (id) SELECT g FROM generate_series(1, 30000) g;\n");
  dir_.Write("db/migrations/2_count.sql",
             "-- tandem:phase background\n-- tandem:batch table=t key=ctid size=auto\n"
             "-- migrate:up\nUPDATE t SET n = n + 1 WHERE ctid >= :batch_start AND "
             "ctid < :batch_end;\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  auto run = Tandem({"worker", "--once"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Status(), "succeeded");
  EXPECT_EQ(Counters(), "rows=30000 wrong=0");
  EXPECT_EQ(Progress("key_kind"), "ctid");
  EXPECT_EQ(Progress("rows_done"), "30000");
  EXPECT_EQ(QueryValue("SELECT (progress->>'max')::bigint + 1 = pg_relation_size('t') / 8192 "
                       "FROM tandem.jobs WHERE version = '2'"),
            "t");
  EXPECT_GT(std::stoi(Progress("batches")), 1);
}

TEST_F(BackgroundTest, AFakeLagProbeThrottlesAndAChangedLimitTakesEffectWhileItRuns) {
  Config("throttle_query = \"SELECT lagging FROM probe\"\n");
  CounterMigration(4000, "100", "0.02");
  auto setup = Connect();
  ASSERT_TRUE(setup->Exec("CREATE TABLE probe (lagging boolean)").ok());
  ASSERT_TRUE(setup->Exec("INSERT INTO probe VALUES (false)").ok());
  pid_t worker = Start("worker.log");
  ASSERT_TRUE(WaitFor("SELECT (progress->>'batches')::int >= 2 FROM tandem.jobs"));
  ASSERT_EQ(QueryValue("UPDATE probe SET lagging = true RETURNING 'ok'"), "ok");
  ASSERT_TRUE(
      WaitFor("SELECT progress->'throttled'->>'reason' = 'throttle_query' AND "
              "progress->'throttled'->>'value' = 'true' FROM tandem.jobs"));
  std::string held = Progress("rows_done");
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(Progress("rows_done"), held);
  auto list = Tandem({"jobs", "list"});
  EXPECT_NE(list.out.find("throttled now: throttle_query true"), std::string::npos) << list.out;
  // The limit is read again between batches: a probe that says no lets it go on.
  Config("throttle_query = \"SELECT false\"\n");
  ASSERT_TRUE(WaitFor("SELECT status = 'succeeded' FROM tandem.jobs"));
  kill(worker, SIGTERM);
  ASSERT_TRUE(WaitForExit(worker).ok());
  EXPECT_EQ(Counters(), "rows=4000 wrong=0");
  EXPECT_GE(std::stoll(Progress("throttled_ms")), 500);
  EXPECT_EQ(QueryValue("SELECT progress->'throttled' FROM tandem.jobs"), "null");
}

TEST_F(BackgroundTest, AnAppQueryBlockedBehindABatchThrottlesTheJob) {
  Config("max_lock_wait = \"300ms\"\n");
  // Each batch updates its rows, then holds them for a second.
  dir_.Write("db/migrations/1_table.sql",
             "-- migrate:up\nCREATE TABLE t (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0);\n"
             "INSERT INTO t (id) SELECT g FROM generate_series(1, 300) g;\n");
  dir_.Write("db/migrations/2_count.sql",
             "-- tandem:phase background\n-- tandem:batch table=t key=id size=100\n"
             "-- migrate:up\nWITH u AS (UPDATE t SET n = n + 1 WHERE id >= :batch_start AND "
             "id < :batch_end RETURNING 1)\nSELECT pg_sleep(1) FROM (SELECT count(*) FROM u) c;\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  pid_t worker = Start("worker.log");
  ASSERT_TRUE(
      WaitFor("SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE "
              "'%pg_sleep(1)%' AND state = 'active' AND pid <> pg_backend_pid()"));
  std::this_thread::sleep_for(200ms);
  // The app updates a row of the batch in flight: it waits until the batch commits.
  std::string row = QueryValue("SELECT coalesce(progress->>'cursor', '1') FROM tandem.jobs");
  auto app = Connect();
  auto began = std::chrono::steady_clock::now();
  ASSERT_TRUE(app->Exec("UPDATE t SET n = n WHERE id = " + row).ok());
  EXPECT_GT(std::chrono::steady_clock::now() - began, 400ms);
  ASSERT_TRUE(
      WaitFor("SELECT progress->'throttled'->>'reason' = "
              "'app queries blocked behind the batch' FROM tandem.jobs"));
  ASSERT_TRUE(WaitFor("SELECT status = 'succeeded' FROM tandem.jobs"));
  kill(worker, SIGTERM);
  ASSERT_TRUE(WaitForExit(worker).ok());
  EXPECT_EQ(Counters(), "rows=300 wrong=0");
}

TEST_F(BackgroundTest, ReleaseRefusesAStatementWithoutPlaceholdersBeforeChangingAnything) {
  dir_.Write("db/migrations/1_table.sql", "-- migrate:up\nCREATE TABLE t (id int, n int);\n");
  dir_.Write("db/migrations/2_count.sql",
             "-- tandem:phase background\n-- tandem:batch table=t key=id size=auto\n"
             "-- migrate:up\nUPDATE t SET n = 1;\n");
  auto release = Tandem({"release"});
  EXPECT_EQ(release.exit_code, 2) << release.out << release.err;
  EXPECT_NE(release.err.find("background migration 2: a background migration must use "
                             ":batch_start and :batch_end"),
            std::string::npos)
      << release.err;
  EXPECT_NE(release.err.find("2_count.sql:4"), std::string::npos) << release.err;
  EXPECT_EQ(QueryValue("SELECT to_regclass('t') IS NULL"), "t");
}

TEST_F(BackgroundTest, UuidKeysByKeysetBoundariesOnceAcrossAKill9) {
  dir_.Write("db/migrations/1_table.sql",
             "-- migrate:up\nCREATE TABLE t (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "
             "n int NOT NULL DEFAULT 0);\n"
             "INSERT INTO t SELECT FROM generate_series(1, 5000);\n");
  dir_.Write("db/migrations/2_count.sql",
             "-- tandem:phase background\n-- tandem:batch table=t key=id size=70\n"
             "-- migrate:up\nWITH pause AS (SELECT pg_sleep(0.01))\nUPDATE t SET n = n + 1 FROM "
             "pause WHERE id >= :batch_start AND id < :batch_end;\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  pid_t worker = Start("worker.log");
  ASSERT_TRUE(WaitFor("SELECT (progress->>'batches')::int >= 5 FROM tandem.jobs"))
      << dir_.Read("worker.log") << QueryValue("SELECT progress FROM tandem.jobs");
  kill(worker, SIGKILL);
  ASSERT_TRUE(WaitForExit(worker).ok());
  EXPECT_EQ(QueryValue("SELECT count(*) FILTER (WHERE n = 1) FROM t"), Progress("rows_done"));
  auto run = Tandem({"worker", "--once"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Status(), "succeeded");
  EXPECT_EQ(Counters(), "rows=5000 wrong=0");
  EXPECT_EQ(Progress("key_kind"), "keyset");
  EXPECT_EQ(Progress("batches"), "72");  // 5000 / 70, rounded up
}

TEST_F(BackgroundTest, NumericAndTimestampKeysEndTheirLastBatchAtTheTypesGreatestValue) {
  dir_.Write("db/migrations/1_table.sql",
             "-- migrate:up\nCREATE TABLE t (id numeric PRIMARY KEY, n int NOT NULL DEFAULT 0);\n"
             "INSERT INTO t (id) SELECT g / 10.0 FROM generate_series(1, 1000) g;\n"
             "CREATE TABLE e (at timestamptz PRIMARY KEY, n int NOT NULL DEFAULT 0);\n"
             "INSERT INTO e (at) SELECT now() + g * interval '1 second' "
             "FROM generate_series(1, 500) g;\n");
  dir_.Write(
      "db/migrations/2_count.sql",
      "-- tandem:phase background\n-- tandem:batch table=t key=id size=150\n"
      "-- migrate:up\nUPDATE t SET n = n + 1 WHERE id >= :batch_start AND id < :batch_end;\n");
  dir_.Write(
      "db/migrations/3_events.sql",
      "-- tandem:phase background\n-- tandem:batch table=e key=at size=100\n"
      "-- migrate:up\nUPDATE e SET n = n + 1 WHERE at >= :batch_start AND at < :batch_end;\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  auto run = Tandem({"worker", "--once"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Counters(), "rows=1000 wrong=0");
  EXPECT_EQ(QueryValue("SELECT count(*) || ' ' || count(*) FILTER (WHERE n <> 1) FROM e"), "500 0");
  EXPECT_EQ(QueryValue("SELECT string_agg(version || '=' || status || ':' || "
                       "(progress->>'batches'), ' ' ORDER BY version) FROM tandem.jobs"),
            "2=succeeded:7 3=succeeded:5");
}

TEST_F(BackgroundTest, TextKeysInClosedRangesOnceAcrossAKill9) {
  // Keys in an order that is not the insertion order, with a collation-sensitive mix of cases.
  dir_.Write("db/migrations/1_table.sql",
             "-- migrate:up\nCREATE TABLE t (code text PRIMARY KEY, n int NOT NULL DEFAULT 0);\n"
             "INSERT INTO t (code) SELECT CASE WHEN g % 2 = 0 THEN 'K' ELSE 'k' END || "
             "md5(g::text) FROM generate_series(1, 3000) g;\n");
  dir_.Write("db/migrations/2_count.sql",
             "-- tandem:phase background\n-- tandem:batch table=t key=code size=70\n"
             "-- migrate:up\nWITH pause AS (SELECT pg_sleep(0.01))\nUPDATE t SET n = n + 1 FROM "
             "pause WHERE code >= :batch_start AND code <= :batch_end;\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  pid_t worker = Start("worker.log");
  ASSERT_TRUE(WaitFor("SELECT (progress->>'batches')::int >= 5 FROM tandem.jobs"))
      << dir_.Read("worker.log") << QueryValue("SELECT progress FROM tandem.jobs");
  std::this_thread::sleep_for(std::chrono::milliseconds(std::random_device()() % 100));
  kill(worker, SIGKILL);
  ASSERT_TRUE(WaitForExit(worker).ok());
  EXPECT_EQ(QueryValue("SELECT count(*) FILTER (WHERE n = 1) || ' ' || "
                       "count(*) FILTER (WHERE n > 1) FROM t"),
            Progress("rows_done") + " 0");
  // The cursor is the last key covered: every key up to it is done, none above it.
  EXPECT_EQ(QueryValue("SELECT bool_and((n = 1) = (code <= (SELECT progress->'after'->>0 FROM "
                       "tandem.jobs))) FROM t"),
            "t");
  auto run = Tandem({"worker", "--once"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Status(), "succeeded");
  EXPECT_EQ(Counters(), "rows=3000 wrong=0");
  EXPECT_EQ(Progress("key_kind"), "closed");
  EXPECT_EQ(Progress("batches"), "43");  // 3000 / 70, rounded up
}

TEST_F(BackgroundTest, CompositeKeysByRowComparisonsOnceAcrossAKill9) {
  // Uneven tenants, so batches cross from one tenant to the next.
  dir_.Write("db/migrations/1_table.sql",
             "-- migrate:up\nCREATE TABLE t (tenant int, item text, n int NOT NULL DEFAULT 0, "
             "PRIMARY KEY (tenant, item));\n"
             "INSERT INTO t (tenant, item) SELECT g % 7, 'item ' || g FROM "
             "generate_series(1, 4000) g;\n");
  dir_.Write("db/migrations/2_count.sql",
             "-- tandem:phase background\n-- tandem:batch table=t key=tenant,item size=90\n"
             "-- migrate:up\nWITH pause AS (SELECT pg_sleep(0.01))\nUPDATE t SET n = n + 1 FROM "
             "pause\n WHERE (tenant, item) >= :batch_start AND (tenant, item) <= :batch_end;\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  pid_t worker = Start("worker.log");
  ASSERT_TRUE(WaitFor("SELECT (progress->>'batches')::int >= 5 FROM tandem.jobs"))
      << dir_.Read("worker.log") << QueryValue("SELECT progress FROM tandem.jobs");
  std::this_thread::sleep_for(std::chrono::milliseconds(std::random_device()() % 100));
  kill(worker, SIGKILL);
  ASSERT_TRUE(WaitForExit(worker).ok());
  EXPECT_EQ(QueryValue("SELECT count(*) FILTER (WHERE n = 1) || ' ' || "
                       "count(*) FILTER (WHERE n > 1) FROM t"),
            Progress("rows_done") + " 0");
  EXPECT_EQ(QueryValue("SELECT bool_and((n = 1) = ((tenant, item) <= (SELECT "
                       "(progress->'after'->>0)::int, progress->'after'->>1 FROM tandem.jobs))) "
                       "FROM t"),
            "t");
  auto show = Tandem({"jobs", "show", QueryValue("SELECT id FROM tandem.jobs")});
  EXPECT_NE(show.out.find("cursor:      (" + QueryValue("SELECT progress->'after'->>0 FROM "
                                                        "tandem.jobs")),
            std::string::npos)
      << show.out;
  auto run = Tandem({"worker", "--once"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Status(), "succeeded");
  EXPECT_EQ(Counters(), "rows=4000 wrong=0");
  EXPECT_EQ(Progress("key_kind"), "closed");
  EXPECT_EQ(Progress("batches"), "45");  // 4000 / 90, rounded up
}

TEST_F(BackgroundTest, AHalfOpenEndOnAClosedRangeKeyFailsTheJobBeforeAnyBatch) {
  dir_.Write("db/migrations/1_table.sql",
             "-- migrate:up\nCREATE TABLE t (code text PRIMARY KEY, n int);\n"
             "INSERT INTO t VALUES ('a', 0);\n");
  dir_.Write("db/migrations/2_count.sql",
             "-- tandem:phase background\n-- tandem:batch table=t key=code\n-- migrate:up\n"
             "UPDATE t SET n = 1 WHERE code >= :batch_start AND code < :batch_end;\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  EXPECT_EQ(Tandem({"worker", "--once"}).exit_code, 1);
  EXPECT_EQ(Status(), "failed");
  EXPECT_EQ(QueryValue("SELECT error_message FROM tandem.jobs"),
            "the comparison < with :batch_end skips or repeats the rows on batch boundaries "
            "(line 1)");
  EXPECT_EQ(QueryValue("SELECT n FROM t"), "0");
}

TEST_F(BackgroundTest, FinalizeRunsTheRemainingBatchesInTheForeground) {
  CounterMigration(3000, "500", "0");
  std::string id = QueryValue("SELECT id FROM tandem.jobs WHERE version = '2'");
  ASSERT_EQ(Tandem({"jobs", "pause", id}).exit_code, 0);
  auto finalize = Tandem({"jobs", "finalize", id, "--actor", "ana"});
  EXPECT_EQ(finalize.exit_code, 0) << finalize.out << finalize.err;
  EXPECT_NE(finalize.err.find("3,000 of ~3,000 rows (100%)"), std::string::npos) << finalize.err;
  EXPECT_NE(finalize.out.find("succeeded"), std::string::npos) << finalize.out;
  EXPECT_EQ(Status(), "succeeded");
  EXPECT_EQ(Counters(), "rows=3000 wrong=0");
  EXPECT_EQ(QueryValue("SELECT string_agg(event, ',' ORDER BY id) FROM tandem.events WHERE "
                       "event LIKE 'job.%' AND version = '2' AND actor = 'ana'"),
            "job.queued,job.running,job.succeeded");
  // The migration is applied with its job's success: its history row says so, and status too.
  EXPECT_EQ(QueryValue("SELECT status || ' ' || phase FROM tandem.migrations WHERE version = '2'"),
            "succeeded background");
  auto status = Tandem({"status"});
  EXPECT_EQ(status.out.find("pending"), std::string::npos) << status.out;
  // Finalizing a finished job, or a post-deploy one, changes nothing.
  EXPECT_EQ(Tandem({"jobs", "finalize", id}).exit_code, 0);
  EXPECT_EQ(Tandem({"jobs", "finalize", "99"}).exit_code, 2);
}

TEST_F(BackgroundTest, RequiresRefusesUntilTheBackgroundJobIsDoneThenPasses) {
  CounterMigration(2000, "500", "0");
  std::string id = QueryValue("SELECT id FROM tandem.jobs WHERE version = '2'");
  dir_.Write("db/migrations/3_after.sql",
             "-- tandem:requires 2\n-- migrate:up\nALTER TABLE t ALTER COLUMN n SET DEFAULT 1;\n");
  auto refused = Tandem({"release"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("migration 3 requires background migration 2 (job " + id +
                             "), which is queued"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("tandem jobs finalize " + id), std::string::npos) << refused.err;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.migrations WHERE version = '3'"), "0");
  EXPECT_EQ(Tandem({"jobs", "finalize", id}).exit_code, 0);
  auto passed = Tandem({"release"});
  EXPECT_EQ(passed.exit_code, 0) << passed.out << passed.err;
  EXPECT_EQ(QueryValue("SELECT status FROM tandem.migrations WHERE version = '3'"), "succeeded");
  EXPECT_EQ(Counters(), "rows=2000 wrong=0");
  // A requirement never released is refused too.
  dir_.Write("db/migrations/4_more.sql", "-- tandem:requires 9\n-- migrate:up\nSELECT 1;\n");
  auto missing = Tandem({"release"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("requires background migration 9, which has not been released"),
            std::string::npos)
      << missing.err;
}

// A crash restart of the server mid-run: a backend killed with SIGKILL makes the postmaster
// end every session and recover from the WAL, as after a crash. Each batch committed with its
// cursor or not at all, and the worker, once it reconnects, takes the job over from there.
TEST_F(BackgroundTest, EveryRowOnceAcrossACrashRestartOfTheServer) {
  CounterMigration(6000, "100", "0.03");  // 60 batches of at least 30 ms
  pid_t worker = Start("worker.log");
  ASSERT_TRUE(WaitFor("SELECT (progress->>'batches')::int >= 5 FROM tandem.jobs"));
  std::string backend = QueryValue(
      "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep%' AND backend_type = "
      "'client backend' AND pid <> pg_backend_pid() LIMIT 1");
  ASSERT_FALSE(backend.empty()) << "no batch running";
  ASSERT_EQ(kill(std::stoi(backend), SIGKILL), 0);
  // Until the server has recovered, connections are refused (or dropped at once).
  auto url = pg::ParseDatabaseUrl(this->url());
  ASSERT_TRUE(url.ok());
  bool recovered = false;
  std::this_thread::sleep_for(200ms);
  for (int i = 0; i < 600 && !recovered; ++i) {
    auto c = pg::Connection::Open(*url);
    recovered = c.ok() && (*c)->Query("SELECT 1").ok();
    if (!recovered) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(recovered) << "the server did not come back";
  // Right after recovery: only whole batches, each with its cursor. One statement reads the
  // rows and the progress in one snapshot: the reconnected worker may commit a batch between
  // two statements.
  EXPECT_EQ(QueryValue("SELECT (count(*) FILTER (WHERE t.n = 1) = "
                       "(j.progress->>'rows_done')::bigint) || ' ' || "
                       "count(*) FILTER (WHERE t.n > 1) || ' ' || "
                       "bool_and((t.n = 1) = (t.id < (j.progress->>'cursor')::bigint)) "
                       "FROM t, tandem.jobs j WHERE j.version = '2' GROUP BY j.id"),
            "true 0 true");
  ASSERT_TRUE(WaitFor("SELECT status = 'succeeded' FROM tandem.jobs", std::chrono::seconds(60)))
      << dir_.Read("worker.log");
  kill(worker, SIGTERM);
  ASSERT_TRUE(WaitForExit(worker).ok());
  EXPECT_EQ(Counters(), "rows=6000 wrong=0");
  EXPECT_EQ(Progress("batches"), "60");
  EXPECT_GE(std::stoi(QueryValue("SELECT count(*) FROM tandem.events WHERE event = "
                                 "'job.running' AND detail->>'reason' LIKE 'taken over%'")),
            1)
      << dir_.Read("worker.log");
}

// [background] max_parallel (2 by default): jobs on different tables run at once, each on its
// own connection; a later job on a table already being batched waits for the earlier one.
TEST_F(BackgroundTest, TwoTablesRunAtOnceButOneTableNeverRunsTwoJobs) {
  dir_.Write("db/migrations/1_tables.sql",
             "-- migrate:up\nCREATE TABLE a (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0);\n"
             "CREATE TABLE b (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0);\n"
             "INSERT INTO a (id) SELECT g FROM generate_series(1, 1000) g;\n"
             "INSERT INTO b (id) SELECT g FROM generate_series(1, 1000) g;\n");
  auto counter = [&](const std::string& file, const std::string& table) {
    dir_.Write("db/migrations/" + file,
               "-- tandem:phase background\n-- tandem:batch table=" + table +
                   " key=id size=50\n-- migrate:up\nWITH pause AS (SELECT pg_sleep(0.05))\n"
                   "UPDATE " +
                   table +
                   " SET n = n + 1 FROM pause\n"
                   " WHERE id >= :batch_start AND id < :batch_end;\n");
  };
  counter("2_a.sql", "a");
  counter("3_b.sql", "b");
  counter("4_a_again.sql", "a");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  pid_t worker = Start("worker.log");
  // Sampled until every job is done: how many ran at once, and on table a.
  int most = 0, most_on_a = 0;
  bool both_moving = false;
  for (int i = 0; i < 1500; ++i) {
    std::string now = QueryValue(
        "SELECT count(*) FILTER (WHERE status = 'running') || ' ' || "
        "count(*) FILTER (WHERE status = 'running' AND batch->>'table' = 'a') || ' ' || "
        "count(*) FILTER (WHERE status = 'running' AND (progress->>'batches')::int > 0) || ' ' || "
        "count(*) FILTER (WHERE status <> 'succeeded') FROM tandem.jobs");
    int running = 0, on_a = 0, moving = 0, open = 0;
    ASSERT_EQ(std::sscanf(now.c_str(), "%d %d %d %d", &running, &on_a, &moving, &open), 4) << now;
    most = std::max(most, running);
    most_on_a = std::max(most_on_a, on_a);
    both_moving = both_moving || moving == 2;
    if (open == 0) break;
    std::this_thread::sleep_for(20ms);
  }
  kill(worker, SIGTERM);
  ASSERT_TRUE(WaitForExit(worker).ok());
  EXPECT_EQ(QueryValue("SELECT string_agg(status, ',' ORDER BY version) FROM tandem.jobs"),
            "succeeded,succeeded,succeeded")
      << dir_.Read("worker.log");
  EXPECT_EQ(most, 2);
  EXPECT_TRUE(both_moving) << "two jobs never made progress at the same time";
  EXPECT_EQ(most_on_a, 1);
  EXPECT_EQ(QueryValue("SELECT count(*) FILTER (WHERE n = 2) FROM a"), "1000");
  EXPECT_EQ(QueryValue("SELECT count(*) FILTER (WHERE n = 1) FROM b"), "1000");
  // The second job on a started after the first one ended.
  EXPECT_EQ(QueryValue("SELECT (SELECT min(id) FROM tandem.events e WHERE e.event = "
                       "'job.running' AND e.version = '4') > (SELECT max(id) FROM "
                       "tandem.events e WHERE e.event = 'job.succeeded' AND e.version = '2')"),
            "t");
}

TEST_F(BackgroundTest, APostDeployJobQueuedBehindALongBackgroundJobFinishesWhileItRuns) {
  CounterMigration(4000, "50", "0.05");  // 80 batches of 50 ms: about 4 s
  pid_t worker = Start("worker.log");
  ASSERT_TRUE(WaitFor("SELECT (progress->>'batches')::int >= 2 FROM tandem.jobs"));
  dir_.Write("db/migrations/3_post.sql",
             "-- tandem:phase post-deploy\n-- migrate:up\nCREATE TABLE later (id int);\n");
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  ASSERT_TRUE(WaitFor("SELECT status = 'succeeded' FROM tandem.jobs WHERE version = '3'"))
      << dir_.Read("worker.log");
  EXPECT_EQ(Status(), "running");
  EXPECT_EQ(Progress("done"), "false");
  ASSERT_TRUE(WaitFor("SELECT status = 'succeeded' FROM tandem.jobs WHERE version = '2'"));
  kill(worker, SIGTERM);
  ASSERT_TRUE(WaitForExit(worker).ok());
  EXPECT_EQ(Counters(), "rows=4000 wrong=0");
}

TEST_F(BackgroundTest, AnEmptyTableIsDoneAtOnce) {
  CounterMigration(0, "auto", "0");
  auto run = Tandem({"worker", "--once"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Status(), "succeeded");
  EXPECT_EQ(Progress("batches"), "0");
}

}  // namespace
}  // namespace tandem::testing
