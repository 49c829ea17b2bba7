// The worker against the real server, through the real binary: release then worker, ordering
// and blocking, bounded locks with a real blocker, replicas, kill -9 takeover, SIGTERM, and
// people steering jobs through `tandem jobs`.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "jobs/metrics_test_util.h"
#include "testing/harness.h"
#include "testing/http_receiver.h"
#include "testing/http_request.h"
#include "testing/project_test.h"

namespace tandem::testing {
namespace {

using namespace std::chrono_literals;

class WorkerTest : public ProjectTest {
 protected:
  std::string Statuses() {
    return QueryValue(
        "SELECT string_agg(version || '=' || status, ' ' ORDER BY version) FROM "
        "tandem.jobs");
  }

  void Migration(const std::string& file, const std::string& body) {
    dir_.Write("db/migrations/" + file, body);
  }
};

// GET over a plain socket: the body of the answer, or "" when none came.
std::string HttpGet(int port, const std::string& path) {
  return ::tandem::testing::Request(port, "GET", path).body;
}

TEST_F(WorkerTest, ReleaseQueuesWithTheSqlAndTheWorkerAppliesIt) {
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE t (id int, v int);\n");
  Migration("2_fill.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO t VALUES (1, 10);\n");
  Migration("3_index.sql",
            "-- tandem:phase post-deploy\n-- tandem:transaction off\n-- migrate:up\n"
            "CREATE INDEX CONCURRENTLY t_v ON t (v);\nINSERT INTO t VALUES (2, 20);\n");
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(Statuses(), "2=queued 3=queued");
  EXPECT_EQ(QueryValue("SELECT sql FROM tandem.jobs WHERE version = '2'"),
            "INSERT INTO t VALUES (1, 10);\n");
  // What runs is what was released: the file edited afterwards is drift, reported, not run.
  Migration("2_fill.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO t VALUES (1, 99);\n");

  auto worker = Tandem({"worker", "--once"});
  EXPECT_EQ(worker.exit_code, 0) << worker.out << worker.err;
  EXPECT_EQ(Statuses(), "2=succeeded 3=succeeded");
  EXPECT_EQ(QueryValue("SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM t"), "1:10,2:20");
  EXPECT_EQ(QueryValue("SELECT string_agg(version || '=' || status, ' ' ORDER BY version) FROM "
                       "tandem.migrations"),
            "1=succeeded 2=succeeded 3=succeeded");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events WHERE event = 'drift'"), "1");
  EXPECT_NE(worker.err.find("edited since it was queued"), std::string::npos) << worker.err;
  EXPECT_EQ(QueryValue("SELECT string_agg(event, ',' ORDER BY id) FROM tandem.events WHERE "
                       "event LIKE 'job.%' AND version = '2'"),
            "job.queued,job.running,job.succeeded");

  auto list = Tandem({"jobs", "list", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto json = nlohmann::json::parse(list.out);
  ASSERT_EQ(json["jobs"].size(), 2u);
  EXPECT_EQ(json["jobs"][1]["status"], "succeeded");
  EXPECT_EQ(json["jobs"][1]["statements_done"], 2);
}

TEST_F(WorkerTest, OneAtATimeInVersionOrderAndAFailureBlocksTheRest) {
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE t (id int);\n");
  Migration("2_bad.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO missing VALUES (1);\n");
  Migration("3_after.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO t VALUES (3);\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  auto worker = Tandem({"worker", "--once"});
  EXPECT_EQ(worker.exit_code, 1) << worker.err;
  EXPECT_EQ(Statuses(), "2=failed 3=queued");
  EXPECT_EQ(QueryValue("SELECT error_sqlstate || ' ' || error_line || ' ' || error_statement "
                       "FROM tandem.jobs WHERE version = '2'"),
            "42P01 3 INSERT INTO missing VALUES (1)");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM t"), "0");
  auto list = Tandem({"jobs", "list"});
  EXPECT_NE(list.out.find("blocked by 2 (failed)"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("42P01"), std::string::npos) << list.out;
  // `tandem status` shows each job beside its migration.
  auto status = Tandem({"status"});
  EXPECT_NE(status.out.find("(job "), std::string::npos) << status.out;
  EXPECT_NE(status.out.find(": failed)"), std::string::npos) << status.out;
  // `tandem up` leaves the worker's jobs alone, and says so.
  auto up = Tandem({"up"});
  EXPECT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_NE((up.out + up.err).find("left to \"tandem worker\""), std::string::npos) << up.out;
  EXPECT_EQ(Statuses(), "2=failed 3=queued");

  // A person fixes the cause and retries: both run, in order.
  QueryValue("CREATE TABLE missing (v int)");
  std::string id = QueryValue("SELECT id FROM tandem.jobs WHERE version = '2'");
  auto retry = Tandem({"jobs", "retry", id, "--actor", "alice", "--reason", "table created"});
  ASSERT_EQ(retry.exit_code, 0) << retry.err;
  EXPECT_EQ(QueryValue("SELECT actor || ' ' || (detail->>'reason') FROM tandem.events WHERE "
                       "event = 'job.queued' ORDER BY id DESC LIMIT 1"),
            "alice table created");
  worker = Tandem({"worker", "--once"});
  EXPECT_EQ(worker.exit_code, 0) << worker.err;
  EXPECT_EQ(Statuses(), "2=succeeded 3=succeeded");
  // One after the other, each in its own transaction (they may have gone to the server together,
  // as `tandem up` sends consecutive migrations).
  EXPECT_LE(QueryValue("SELECT finished_at FROM tandem.migrations WHERE version = '2'"),
            QueryValue("SELECT started_at FROM tandem.migrations WHERE version = '3'"));
  EXPECT_EQ(QueryValue("SELECT count(DISTINCT xmin::text) FROM tandem.migrations WHERE version "
                       "IN ('2', '3')"),
            "2");
}

// Regression: the watch for a person's pause or cancel noticed the end of a job only after its
// 250 ms wait, and that wait was recorded as part of the job's duration (265 ms for a statement
// that failed at once) and spent between every two jobs.
TEST_F(WorkerTest, RecordedDurationIsTheJobsNotTheWatchersWait) {
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE t (id int);\n");
  for (int v = 2; v <= 6; ++v) {
    Migration(std::to_string(v) + "_row.sql",
              "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO t VALUES (" +
                  std::to_string(v) + ");\n");
  }
  Migration("7_bad.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO missing VALUES (1);\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  EXPECT_EQ(Tandem({"worker", "--once"}).exit_code, 1);
  EXPECT_EQ(Statuses(), "2=succeeded 3=succeeded 4=succeeded 5=succeeded 6=succeeded 7=failed");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.jobs WHERE duration_ms >= 200"), "0")
      << QueryValue(
             "SELECT string_agg(version || '=' || duration_ms, ' ' ORDER BY version) FROM "
             "tandem.jobs");
}

TEST_F(WorkerTest, RunsOfSmallJobsGoTogetherAndStopAtTheFirstFailure) {
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE t (id int);\n");
  for (int v = 2; v <= 6; ++v) {
    std::string table = v == 4 ? "missing" : "t";
    Migration(std::to_string(v) + "_job.sql",
              "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO " + table + " VALUES (" +
                  std::to_string(v) + ");\n");
  }
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  auto worker = Tandem({"worker", "--once"});
  EXPECT_EQ(worker.exit_code, 1) << worker.err;
  EXPECT_EQ(Statuses(), "2=succeeded 3=succeeded 4=failed 5=queued 6=queued");
  EXPECT_EQ(QueryValue("SELECT string_agg(id::text, ',' ORDER BY id) FROM t"), "2,3");
  // The failed job ran alone after the run stopped: its error and attempt are its own; the
  // jobs behind it were given back without using an attempt.
  EXPECT_EQ(QueryValue("SELECT string_agg(version || ':' || attempts || ':' || "
                       "coalesce(error_sqlstate, '-'), ' ' ORDER BY version) FROM tandem.jobs"),
            "2:1:- 3:1:- 4:1:42P01 5:0:- 6:0:-");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events WHERE event = 'job.failed'"), "1");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.jobs WHERE started_at IS NOT NULL AND "
                       "status = 'queued'"),
            "0");
}

TEST_F(WorkerTest, WaitsForAnOlderPreDeployMigrationThatFailed) {
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE t (id int);\n");
  Migration("3_post.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO t VALUES (3);\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  // A later release brings an older pre-deploy migration, which fails.
  Migration("2_pre.sql", "-- migrate:up\nALTER TABLE nope ADD COLUMN x int;\n");
  EXPECT_EQ(Tandem({"release"}).exit_code, 1);
  auto worker = Tandem({"worker", "--once"});
  EXPECT_EQ(worker.exit_code, 1) << worker.err;
  EXPECT_EQ(Statuses(), "3=queued");
  auto list = Tandem({"jobs", "list", "--format", "json"});
  EXPECT_EQ(nlohmann::json::parse(list.out)["jobs"][0]["waiting"],
            "waiting for pre-deploy 2 (failed)");
}

TEST_F(WorkerTest, ApprovalPauseAndResumeThroughTheCli) {
  dir_.Write("tandem.toml", "[worker]\nrequire_approval = true\n");
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE t (id int);\n");
  Migration("2_a.sql", "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO t VALUES (2);\n");
  Migration("3_b.sql", "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO t VALUES (3);\n");
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0);
  EXPECT_NE(release.out.find("tandem jobs approve --all"), std::string::npos) << release.out;
  EXPECT_EQ(Statuses(), "2=awaiting-approval 3=awaiting-approval");
  EXPECT_EQ(Tandem({"worker", "--once"}).exit_code, 1);
  EXPECT_EQ(QueryValue("SELECT count(*) FROM t"), "0");

  std::string a = QueryValue("SELECT id FROM tandem.jobs WHERE version = '2'");
  std::string b = QueryValue("SELECT id FROM tandem.jobs WHERE version = '3'");
  auto approve = Tandem({"jobs", "approve", a, "--format", "json"}, {"TANDEM_ACTOR=bob"});
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  EXPECT_EQ(nlohmann::json::parse(approve.out)["jobs"][0]["status"], "queued");
  // Approving twice is refused (exit 1), naming the state.
  auto again = Tandem({"jobs", "approve", a});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("it is queued"), std::string::npos) << again.err;
  // Paused before it ran: the worker leaves it, and the later one waits behind it.
  ASSERT_EQ(Tandem({"jobs", "pause", a}).exit_code, 0);
  ASSERT_EQ(Tandem({"jobs", "approve", b}).exit_code, 0);
  EXPECT_EQ(Tandem({"worker", "--once"}).exit_code, 1);
  EXPECT_EQ(Statuses(), "2=paused 3=queued");
  ASSERT_EQ(Tandem({"jobs", "resume", "--all"}).exit_code, 0);
  EXPECT_EQ(Tandem({"worker", "--once"}).exit_code, 0);
  EXPECT_EQ(Statuses(), "2=succeeded 3=succeeded");
  EXPECT_EQ(QueryValue("SELECT actor FROM tandem.events WHERE event = 'job.approved' ORDER BY id "
                       "LIMIT 1"),
            "bob");
  // Unknown ids are bad input.
  auto unknown = Tandem({"jobs", "cancel", "999"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("job 999 does not exist"), std::string::npos) << unknown.err;
}

TEST_F(WorkerTest, BoundedLocksRetryBehindARealBlockerThenSucceed) {
  dir_.Write("tandem.toml",
             "[release]\nlock_timeout = \"100ms\"\nbackoff_initial = \"50ms\"\n"
             "backoff_max = \"200ms\"\n");
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE t (id int);\n");
  Migration("2_column.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nALTER TABLE t ADD COLUMN v int;\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  auto blocker = Connect();
  ASSERT_TRUE(blocker->Exec("BEGIN").ok());
  ASSERT_TRUE(blocker->Exec("LOCK TABLE t IN ACCESS SHARE MODE").ok());
  std::thread release_later([&] {
    std::this_thread::sleep_for(1200ms);
    blocker->Exec("COMMIT");
  });
  auto worker = Tandem({"worker", "--once"});
  release_later.join();
  EXPECT_EQ(worker.exit_code, 0) << worker.err;
  EXPECT_EQ(Statuses(), "2=succeeded");
  EXPECT_GE(std::stoi(QueryValue("SELECT detail->>'lock_timeouts' FROM tandem.events WHERE "
                                 "event = 'job.succeeded'")),
            2);
}

TEST_F(WorkerTest, TransientErrorsAreRetriedUpToMaxAttemptsThenFail) {
  dir_.Write("tandem.toml",
             "[release]\nlock_timeout = \"50ms\"\nretry_budget = \"0s\"\n"
             "backoff_initial = \"100ms\"\nbackoff_max = \"200ms\"\n[worker]\nmax_attempts = 2\n");
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE t (id int);\n");
  Migration("2_column.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nALTER TABLE t ADD COLUMN v int;\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  auto blocker = Connect();
  ASSERT_TRUE(blocker->Exec("BEGIN").ok());
  ASSERT_TRUE(blocker->Exec("LOCK TABLE t IN ACCESS SHARE MODE").ok());
  auto first = Tandem({"worker", "--once"});
  EXPECT_EQ(first.exit_code, 1) << first.err;  // a retry is pending
  EXPECT_EQ(Statuses(), "2=retrying");
  // The next attempt is set after a backoff from when the attempt failed (compared with the
  // row's own time, not now(): on a loaded machine the 100 ms backoff may be over already).
  EXPECT_EQ(QueryValue("SELECT attempts || ' ' || error_sqlstate || ' ' || "
                       "(run_after > updated_at) FROM tandem.jobs"),
            "1 55P03 true");
  // The blocking session is named, in the job and in `jobs show`.
  EXPECT_EQ(QueryValue("SELECT error_detail LIKE '%blocked by%' FROM tandem.jobs"), "t");
  auto show = Tandem({"jobs", "show", QueryValue("SELECT id FROM tandem.jobs")});
  EXPECT_NE(show.out.find("detail:      blocked by"), std::string::npos) << show.out;
  std::this_thread::sleep_for(300ms);
  auto second = Tandem({"worker", "--once"});
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_EQ(Statuses(), "2=failed");
  EXPECT_EQ(QueryValue("SELECT attempts FROM tandem.jobs"), "2");
  EXPECT_EQ(QueryValue("SELECT string_agg(event, ',' ORDER BY id) FROM tandem.events WHERE "
                       "event LIKE 'job.%'"),
            "job.queued,job.running,job.retrying,job.running,job.failed");
  blocker->Exec("COMMIT");
}

TEST_F(WorkerTest, ThreeReplicasApplyThirtyJobsExactlyOnce) {
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE applied (version text);\n");
  for (int v = 2; v <= 31; ++v) {
    Migration(std::to_string(v) + "_job.sql",
              "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO applied VALUES ('" +
                  std::to_string(v) + "');\n");
  }
  std::vector<pid_t> workers;
  for (int i = 0; i < 3; ++i) workers.push_back(Start({"worker"}, "w" + std::to_string(i)));
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  ASSERT_TRUE(WaitFor("SELECT count(*) = 30 FROM tandem.jobs WHERE status = 'succeeded'", 60s));
  for (pid_t pid : workers) kill(pid, SIGTERM);
  for (pid_t pid : workers) {
    auto code = WaitForExit(pid);
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, 0);
  }
  EXPECT_EQ(QueryValue("SELECT count(*) || ' ' || count(DISTINCT version) FROM applied"), "30 30");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events WHERE event = 'job.running'"), "30");
}

TEST_F(WorkerTest, KilledWorkerIsTakenOverAndNoStatementRunsTwice) {
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE c (v int);\n");
  Migration("2_slow.sql",
            "-- tandem:phase post-deploy\n-- tandem:transaction off\n-- migrate:up\n"
            "INSERT INTO c VALUES (1);\nINSERT INTO c SELECT 2 FROM pg_sleep(2);\n"
            "INSERT INTO c VALUES (3);\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  pid_t first = Start({"worker"}, "first.log");
  ASSERT_TRUE(
      WaitFor("SELECT count(*) > 0 FROM pg_stat_activity WHERE state = 'active' AND "
              "query LIKE '%pg_sleep(2)%' AND pid <> pg_backend_pid()"));
  pid_t second = Start({"worker"}, "second.log");
  std::this_thread::sleep_for(300ms);
  auto killed_at = std::chrono::steady_clock::now();
  kill(first, SIGKILL);
  ASSERT_TRUE(WaitForExit(first).ok());
  ASSERT_TRUE(WaitFor("SELECT count(*) = 1 FROM tandem.jobs WHERE status = 'succeeded'", 30s));
  EXPECT_LT(std::chrono::steady_clock::now() - killed_at, 30s);
  kill(second, SIGTERM);
  ASSERT_TRUE(WaitForExit(second).ok());
  EXPECT_EQ(QueryValue("SELECT string_agg(v::text, ',' ORDER BY v) FROM c"), "1,2,3");
  EXPECT_NE(QueryValue("SELECT detail->>'reason' FROM tandem.events WHERE event = 'job.running' "
                       "ORDER BY id DESC LIMIT 1")
                .find("taken over"),
            std::string::npos);
}

TEST_F(WorkerTest, SigtermGivesTheJobBackAndTheNextWorkerResumesIt) {
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE c (v int);\n");
  Migration("2_slow.sql",
            "-- tandem:phase post-deploy\n-- tandem:transaction off\n-- migrate:up\n"
            "INSERT INTO c VALUES (1);\nINSERT INTO c SELECT 2 FROM pg_sleep(5);\n"
            "INSERT INTO c VALUES (3);\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  pid_t worker = Start({"worker", "--log-format", "json"});
  ASSERT_TRUE(
      WaitFor("SELECT count(*) > 0 FROM pg_stat_activity WHERE state = 'active' AND "
              "query LIKE '%pg_sleep(5)%' AND pid <> pg_backend_pid()"));
  // `tandem status` knows the worker is applying it (not a runner that died).
  auto status = Tandem({"status", "--format", "json"});
  EXPECT_NE(status.out.find("\"status\": \"running\""), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("\"status\": \"failed\""), std::string::npos) << status.out;
  auto signalled = std::chrono::steady_clock::now();
  kill(worker, SIGTERM);
  auto code = WaitForExit(worker);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 5s);
  EXPECT_EQ(Statuses(), "2=queued");
  EXPECT_EQ(QueryValue("SELECT string_agg(v::text, ',' ORDER BY v) FROM c"), "1");
  // Every log line is a JSON object.
  std::string log = dir_.Read("worker.log");
  size_t lines = 0;
  for (size_t at = 0; at < log.size();) {
    size_t end = log.find('\n', at);
    auto line = nlohmann::json::parse(log.substr(at, end - at), nullptr, false);
    EXPECT_TRUE(line.is_object()) << log.substr(at, end - at);
    ++lines;
    at = end == std::string::npos ? log.size() : end + 1;
  }
  EXPECT_GE(lines, 3u);
  EXPECT_NE(log.find("stopped by SIGTERM"), std::string::npos) << log;
  auto rerun = Tandem({"worker", "--once"});
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(QueryValue("SELECT string_agg(v::text, ',' ORDER BY v) FROM c"), "1,2,3");
}

TEST_F(WorkerTest, CancelAndPauseStopARunningJob) {
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE c (v int);\n");
  Migration("2_slow.sql",
            "-- tandem:phase post-deploy\n-- tandem:transaction off\n-- migrate:up\n"
            "INSERT INTO c VALUES (1);\nINSERT INTO c SELECT 2 FROM pg_sleep(30);\n"
            "INSERT INTO c VALUES (3);\n");
  Migration(
      "3_slow.sql",
      "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO c SELECT 4 FROM pg_sleep(30);\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  pid_t worker = Start({"worker"});
  std::string sleeping =
      "SELECT count(*) > 0 FROM pg_stat_activity WHERE state = 'active' AND "
      "query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()";
  ASSERT_TRUE(WaitFor(sleeping));
  std::string first = QueryValue("SELECT id FROM tandem.jobs WHERE version = '2'");
  auto pause = Tandem({"jobs", "pause", first});
  ASSERT_EQ(pause.exit_code, 0) << pause.err;
  EXPECT_NE(pause.out.find("pause requested"), std::string::npos) << pause.out;
  ASSERT_TRUE(WaitFor("SELECT count(*) = 1 FROM tandem.jobs WHERE status = 'paused'", 10s));
  EXPECT_EQ(QueryValue("SELECT string_agg(v::text, ',' ORDER BY v) FROM c"), "1");
  // The later job waits behind the paused one; cancelling the paused one lets it run, and
  // cancelling that one while it runs stops its statement.
  ASSERT_EQ(Tandem({"jobs", "cancel", first}).exit_code, 0);
  ASSERT_TRUE(WaitFor(sleeping));
  std::string second = QueryValue("SELECT id FROM tandem.jobs WHERE version = '3'");
  ASSERT_EQ(Tandem({"jobs", "cancel", second}).exit_code, 0);
  ASSERT_TRUE(WaitFor("SELECT count(*) = 2 FROM tandem.jobs WHERE status = 'cancelled'", 10s));
  kill(worker, SIGTERM);
  ASSERT_TRUE(WaitForExit(worker).ok());
  // Cancelled is a person's decision, not pending work.
  auto status = Tandem({"status", "--exit-code"});
  EXPECT_EQ(status.exit_code, 0) << status.out;
  EXPECT_NE(status.out.find(": cancelled)"), std::string::npos) << status.out;
  EXPECT_EQ(QueryValue("SELECT string_agg(v::text, ',' ORDER BY v) FROM c"), "1");
}

TEST_F(WorkerTest, MetricsAndHealthOverHttp) {
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE t (id int);\n");
  Migration("2_ok.sql", "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO t VALUES (2);\n");
  Migration("3_bad.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO nope VALUES (3);\n");
  Migration("4_later.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO t VALUES (4);\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  pid_t worker = Start({"worker", "--http", "127.0.0.1:0"});
  ASSERT_TRUE(WaitFor("SELECT count(*) = 1 FROM tandem.jobs WHERE status = 'failed'"));
  int port = 0;
  for (int i = 0; i < 200 && port == 0; ++i) {
    std::string log = dir_.Read("worker.log");
    size_t at = log.find("on http://127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(log.c_str() + at + 20);
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GT(port, 0) << dir_.Read("worker.log");
  Exposition metrics = ParseExposition(HttpGet(port, "/metrics"));
  EXPECT_TRUE(metrics.errors.empty());
  std::string target = database();
  EXPECT_EQ(metrics.Value(SampleKey("tandem_jobs", {{"target", target}, {"state", "succeeded"}})),
            1);
  EXPECT_EQ(metrics.Value(SampleKey("tandem_jobs", {{"target", target}, {"state", "failed"}})), 1);
  EXPECT_EQ(metrics.Value(SampleKey("tandem_jobs", {{"target", target}, {"state", "queued"}})), 1);
  EXPECT_EQ(metrics.Value(SampleKey("tandem_jobs_applied_total", {{"target", target}})), 1);
  EXPECT_EQ(metrics.Value(SampleKey("tandem_jobs_failed_total", {{"target", target}})), 1);
  EXPECT_EQ(metrics.Value(SampleKey("tandem_job_duration_seconds_count", {{"target", target}})), 2);
  EXPECT_GT(metrics.Value(SampleKey("tandem_oldest_queued_job_age_seconds", {{"target", target}})),
            0);
  auto health = nlohmann::json::parse(HttpGet(port, "/healthz"), nullptr, false);
  ASSERT_TRUE(health.is_object());
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["worker"], "active");
  kill(worker, SIGTERM);
  ASSERT_TRUE(WaitForExit(worker).ok());
}

TEST_F(WorkerTest, NotificationsReachAWebhookThroughA429AndA500) {
  HttpReceiver receiver;
  // The first answer is a 429 with Retry-After, the next a 500: both are retried.
  receiver.Script({{429, {{"Retry-After", "1"}}, "slow down"}, {500, {}, "oops"}});
  dir_.Write("tandem.toml",
             "[[notify]]\nkind = \"webhook\"\nurl_env = \"HOOK\"\n"
             "events = [\"failed\", \"succeeded\"]\n");
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE t (id int);\n");
  Migration("2_ok.sql", "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO t VALUES (2);\n");
  Migration("3_bad.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\n\nINSERT INTO nope VALUES (3);\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  std::string hook = receiver.Url("/hooks/T000/SECRET123");
  auto worker = Tandem({"worker", "--once", "--log-format", "json"}, {"HOOK=" + hook});
  EXPECT_EQ(worker.exit_code, 1) << worker.err;
  // The migrations ran at once; the webhook's trouble only delayed the notifications.
  ASSERT_TRUE(receiver.WaitForRequests(4, 10s));
  auto requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 4u);
  auto delivered = nlohmann::json::parse(requests[2].body);
  EXPECT_EQ(requests[2].body, requests[0].body);  // the same event, tried three times
  EXPECT_EQ(delivered["type"], "job.succeeded");
  EXPECT_EQ(delivered["job"]["version"], "2");
  EXPECT_GE(requests[1].received - requests[0].received, 900ms);  // Retry-After honoured
  auto failed = nlohmann::json::parse(requests[3].body);
  EXPECT_EQ(failed["type"], "job.failed");
  EXPECT_EQ(failed["error"]["sqlstate"], "42P01");
  EXPECT_EQ(failed["error"]["line"], 4);
  std::string id = QueryValue("SELECT id FROM tandem.jobs WHERE version = '3'");
  EXPECT_NE(requests[3].body.find("tandem jobs retry " + id), std::string::npos);
  // The URL is a secret: not in the output, the logs or the database.
  EXPECT_EQ((worker.out + worker.err).find("SECRET123"), std::string::npos) << worker.err;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events WHERE detail::text LIKE "
                       "'%SECRET123%'"),
            "0");
}

// /healthz names the job running, also when it is a background job (run on a thread of its own,
// beside the post-deploy jobs), and 0 once nothing runs.
TEST_F(WorkerTest, HealthNamesTheRunningBackgroundJob) {
  Migration("1_table.sql",
            "-- migrate:up\nCREATE TABLE t (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0);\n"
            "INSERT INTO t (id) SELECT g FROM generate_series(1, 40) g;\n");
  Migration("2_count.sql",
            "-- tandem:phase background\n-- tandem:batch table=t key=id size=1\n-- migrate:up\n"
            "WITH pause AS (SELECT pg_sleep(0.1))\nUPDATE t SET n = n + 1 FROM pause\n"
            " WHERE id >= :batch_start AND id < :batch_end;\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  std::string id = QueryValue("SELECT id FROM tandem.jobs WHERE version = '2'");
  pid_t worker = Start({"worker", "--http", "127.0.0.1:0"});
  int port = 0;
  for (int i = 0; i < 500 && port == 0; ++i) {
    std::string log = dir_.Read("worker.log");
    size_t at = log.find("on http://127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(log.c_str() + at + 20);
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GT(port, 0) << dir_.Read("worker.log");
  ASSERT_TRUE(WaitFor("SELECT status = 'running' FROM tandem.jobs WHERE version = '2'"));
  std::string seen;
  for (int i = 0; i < 200 && seen != id; ++i) {
    auto health = nlohmann::json::parse(HttpGet(port, "/healthz"), nullptr, false);
    if (health.is_object() && health.contains("running_job")) {
      seen = health["running_job"].is_string() ? health["running_job"].get<std::string>()
                                               : health["running_job"].dump();
    }
    if (seen != id) std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(seen, id);
  ASSERT_TRUE(WaitFor("SELECT status = 'succeeded' FROM tandem.jobs WHERE version = '2'"));
  // The thread records the outcome, then clears what /healthz reports.
  for (int i = 0; i < 200 && seen != "0"; ++i) {
    auto health = nlohmann::json::parse(HttpGet(port, "/healthz"), nullptr, false);
    if (health.is_object() && health.contains("running_job")) {
      seen = health["running_job"].is_string() ? health["running_job"].get<std::string>()
                                               : health["running_job"].dump();
    }
    if (seen != "0") std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(seen, "0");
  kill(worker, SIGTERM);
  ASSERT_TRUE(WaitForExit(worker).ok());
}

TEST_F(WorkerTest, BadInputIsExitTwoAndChangesNothing) {
  auto http = Tandem({"worker", "--once", "--http", "nonsense:port"});
  EXPECT_EQ(http.exit_code, 2) << http.err;
  auto no_id = Tandem({"jobs", "pause"});
  EXPECT_EQ(no_id.exit_code, 2) << no_id.err;
  EXPECT_NE(no_id.err.find("needs a job id or --all"), std::string::npos) << no_id.err;
  dir_.Write("tandem.toml", "[worker]\nmax_attempts = 0\n");
  auto config = Tandem({"worker", "--once"});
  EXPECT_EQ(config.exit_code, 2);
  EXPECT_NE(config.err.find("tandem.toml:2:16"), std::string::npos) << config.err;
  dir_.Write("tandem.toml",
             "[[notify]]\nkind = \"slack\"\nurl = \"https://hooks.example/T0/SECRET\"\n"
             "url_env = \"X\"\n");
  auto notify = Tandem({"jobs", "list"});
  EXPECT_EQ(notify.exit_code, 2);
  EXPECT_EQ(notify.err.find("SECRET"), std::string::npos) << notify.err;
  // Nothing was created: read-only commands and refused ones leave the database as it was.
  dir_.Write("tandem.toml", "");
  EXPECT_EQ(Tandem({"jobs", "list"}).exit_code, 0);
  EXPECT_EQ(Tandem({"worker", "--once"}).exit_code, 0);
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_namespace WHERE nspname = 'tandem'"), "0");
}

}  // namespace
}  // namespace tandem::testing
