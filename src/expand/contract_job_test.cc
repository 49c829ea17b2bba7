// `tandem complete VERSION` without --now against the real server, through the real binary: the
// contract queued as a job of kind "contract" for the worker (once, whatever how often complete
// runs), seen by `status` and `jobs list`; kill -9 of the worker at every contract step boundary
// with a new worker finishing it and no step run twice; abort cancelling a contract that has not
// started and refusing, with nothing changed, one that has; a contract failed half-way finished
// by running complete again; and a state schema at version 3 upgraded to take the new kind.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "expand/online_test_util.h"
#include "migrate/state.h"
#include "testing/harness.h"
#include "testing/http_request.h"
#include "testing/project_test.h"

namespace tandem::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kRows = 2000;
constexpr char kRenameColumn[] =
    "-- tandem:online\n-- migrate:up\nALTER TABLE users RENAME COLUMN name TO full_name;\n";

class ContractJobTest : public OnlineTest {
 protected:
  // The rename released and backfilled: ready to complete. Returns the contract's step count.
  int ReadyRename() {
    UsersTable();
    dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
    auto plan = nlohmann::json::parse(Tandem({"--format", "json", "plan", "2"}).out);
    auto release = Tandem({"release"});
    EXPECT_EQ(release.exit_code, 0) << release.out << release.err;
    auto backfill = Tandem({"jobs", "finalize", BackfillJob()});
    EXPECT_EQ(backfill.exit_code, 0) << backfill.out << backfill.err;
    return static_cast<int>(plan["contract"].size());
  }
  std::string BackfillJob() {
    return QueryValue("SELECT id FROM tandem.jobs WHERE kind = 'background' AND version = '2'");
  }
  std::string ContractJob() {
    return QueryValue(
        "SELECT coalesce(max(id), 0) FROM tandem.jobs WHERE kind = 'contract' AND version = '2'");
  }
  std::string JobStatus() {
    return QueryValue("SELECT status FROM tandem.jobs WHERE kind = 'contract' AND version = '2'");
  }
  std::string State() {
    return QueryValue(
        "SELECT coalesce((SELECT state FROM tandem.online_migrations WHERE version = '2'), "
        "'none')");
  }
  std::string ContractSteps() {
    return QueryValue(
        "SELECT count(*) FROM tandem.online_steps WHERE version = '2' AND stage = 'contract'");
  }
  // The users table's shape and rows.
  std::string Snapshot() {
    return QueryValue(
               "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod) || ':' || "
               "attnotnull, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = "
               "'users'::regclass AND attnum > 0 AND NOT attisdropped") +
           "|" +
           QueryValue(
               "SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint "
               "WHERE conrelid = 'users'::regclass") +
           "|" +
           QueryValue(
               "SELECT string_agg(indexrelid::regclass::text || ':' || indisvalid, ',' ORDER BY "
               "1) FROM pg_index WHERE indrelid = 'users'::regclass") +
           "|" +
           QueryValue(
               "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT "
               "tgisinternal") +
           "|" + QueryValue("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM users t");
  }
  // Everything tandem records: what a refused command must leave as it was.
  std::string Records() {
    return QueryValue(
               "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM "
               "tandem.online_migrations t") +
           "|" +
           QueryValue(
               "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM tandem.online_steps "
               "t") +
           "|" +
           QueryValue("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM tandem.jobs t") +
           "|" + QueryValue("SELECT count(*) FROM tandem.events") + "|" +
           QueryValue(
               "SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM "
               "tandem.migrations t");
  }
  // The end state of the rename: old column gone, every row with its value.
  void ExpectRenamed() {
    EXPECT_EQ(State(), "completed");
    EXPECT_EQ(QueryValue("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE "
                         "attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped"),
              "id,n,full_name");
    EXPECT_EQ(QueryValue("SELECT count(*) FROM users WHERE full_name = 'u' || n"),
              std::to_string(kRows));
    EXPECT_EQ(QueryValue("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass "
                         "AND attname = 'full_name'"),
              "t");
    EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_index WHERE indrelid = 'users'::regclass AND "
                         "NOT indisvalid"),
              "0");
  }
  // A killed worker's sessions end when the server notices: until then its worker and runner
  // locks stand, and a new `worker --once` would only find itself standby.
  void WaitForKilledSessions() {
    ASSERT_TRUE(WaitFor("SELECT count(*) = 0 FROM pg_locks WHERE locktype = 'advisory'"));
  }
  // The contract steps a worker's log says it ran ("contract step K of N done"), in order.
  static std::vector<int> StepsLogged(const std::string& log) {
    std::vector<int> steps;
    const std::string marker = ": contract step ";
    for (size_t at = log.find(marker); at != std::string::npos; at = log.find(marker, at + 1)) {
      steps.push_back(std::atoi(log.c_str() + at + marker.size()));
    }
    return steps;
  }
};

TEST_F(ContractJobTest, CompleteQueuesOneJobTheWorkerRuns) {
  UsersTable();
  // Not released: bad input, nothing created.
  auto unknown = Tandem({"complete", "2"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out << unknown.err;
  EXPECT_NE(unknown.err.find("no online migration 2 has been released"), std::string::npos)
      << unknown.err;
  dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  // The backfill has not run: refused as --now refuses, naming the command that runs it.
  auto early = Tandem({"complete", "2"});
  EXPECT_EQ(early.exit_code, 1) << early.out << early.err;
  EXPECT_NE(early.err.find("tandem jobs finalize " + BackfillJob()), std::string::npos)
      << early.err;
  EXPECT_EQ(ContractJob(), "0");
  ASSERT_EQ(Tandem({"jobs", "finalize", BackfillJob()}).exit_code, 0);

  auto queued = Tandem({"complete", "2"});
  ASSERT_EQ(queued.exit_code, 0) << queued.out << queued.err;
  std::string id = ContractJob();
  ASSERT_NE(id, "0");
  EXPECT_NE(queued.out.find("queued as job " + id), std::string::npos) << queued.out;
  EXPECT_EQ(JobStatus(), "queued");
  EXPECT_EQ(State(), "expanded");  // nothing ran yet
  // Twice: the same job.
  auto again = Tandem({"--format", "json", "complete", "2"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  auto j = nlohmann::json::parse(again.out);
  EXPECT_EQ(std::to_string(j["job"].get<long long>()), id);
  EXPECT_EQ(j["created"], false);
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.jobs WHERE kind = 'contract'"), "1");

  auto status = Tandem({"status"});
  EXPECT_NE(status.out.find("online: contracting (job " + id + ", queued)"), std::string::npos)
      << status.out << status.err;
  auto list = Tandem({"jobs", "list", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  bool listed = false;
  auto listed_jobs = nlohmann::json::parse(list.out);
  for (const auto& job : listed_jobs["jobs"]) {
    if (job["kind"] == "contract") {
      listed = true;
      EXPECT_EQ(std::to_string(job["id"].get<long long>()), id);
      EXPECT_EQ(job["status"], "queued");
    }
  }
  EXPECT_TRUE(listed) << list.out;
  auto show = Tandem({"jobs", "show", id});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("-- contract step 1 of"), std::string::npos) << show.out;

  auto worker = Tandem({"worker", "--once"});
  EXPECT_EQ(worker.exit_code, 0) << worker.out << worker.err;
  EXPECT_EQ(JobStatus(), "succeeded");
  ExpectRenamed();
  EXPECT_EQ(
      QueryValue("SELECT statements_done = statements_total FROM tandem.jobs WHERE id = " + id),
      "t");
  EXPECT_EQ(QueryValue("SELECT string_agg(event, ',' ORDER BY id) FROM tandem.events WHERE "
                       "event LIKE 'job.%' AND detail->>'kind' = 'contract'"),
            "job.queued,job.running,job.succeeded");
  status = Tandem({"status"});
  EXPECT_NE(status.out.find("online: completed"), std::string::npos) << status.out;
  // Completed: complete is a no-op, abort is refused.
  auto done = Tandem({"complete", "2"});
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_NE(done.out.find("completed already"), std::string::npos) << done.out;
  EXPECT_EQ(Tandem({"abort", "2"}).exit_code, 1);
}

// The dashboard lists a contract job, serves its page and its JSON (with the steps' SQL).
TEST_F(ContractJobTest, TheDashboardShowsAContractJob) {
  ReadyRename();
  ASSERT_EQ(Tandem({"complete", "2"}).exit_code, 0);
  std::string id = ContractJob();
  pid_t pid = Start({"dashboard", "--http", "127.0.0.1:0"}, "dashboard.log");
  int port = 0;
  for (int i = 0; i < 500 && port == 0; ++i) {
    std::string text = dir_.Read("dashboard.log");
    size_t at = text.find("on http://127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(text.c_str() + at + 20);
    if (port == 0) std::this_thread::sleep_for(20ms);
  }
  ASSERT_GT(port, 0) << dir_.Read("dashboard.log");
  Reply page;
  for (int i = 0; i < 100; ++i) {
    page = Request(port, "GET", "/jobs");
    if (page.body.find("data-job-id=\"" + id + "\"") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("data-job-id=\"" + id + "\""), std::string::npos) << page.body;
  EXPECT_NE(page.body.find(">contract<"), std::string::npos) << page.body;
  auto jobs = nlohmann::json::parse(Request(port, "GET", "/api/jobs").body, nullptr, false);
  ASSERT_TRUE(jobs.is_object());
  bool listed = false;
  for (const auto& job : jobs["jobs"]) {
    if (job["kind"] == "contract") listed = std::to_string(job["id"].get<long long>()) == id;
  }
  EXPECT_TRUE(listed) << jobs.dump();
  auto job = nlohmann::json::parse(Request(port, "GET", "/api/jobs/" + id).body, nullptr, false);
  ASSERT_TRUE(job.is_object());
  EXPECT_EQ(job["status"], "queued");
  EXPECT_NE(job["sql"].get<std::string>().find("-- contract step 1 of"), std::string::npos);
  Reply detail = Request(port, "GET", "/targets/" + database() + "/jobs/" + id);
  EXPECT_EQ(detail.status, 200) << detail.body;
  EXPECT_NE(detail.body.find("contract step 1 of"), std::string::npos) << detail.body;
  kill(pid, SIGTERM);
  ASSERT_TRUE(WaitForExit(pid).ok());
}

// kill -9 of the worker right after each contract step is recorded, then a new worker: each
// step is run by exactly one worker (their logs name the steps they ran) and the end state is
// the same as without the kills.
TEST_F(ContractJobTest, Kill9OfTheWorkerAtEveryContractStepThenANewWorkerFinishes) {
  int steps = ReadyRename();
  ASSERT_GE(steps, 2);
  ASSERT_EQ(Tandem({"complete", "2"}).exit_code, 0);
  std::string id = ContractJob();
  std::vector<int> ran;
  for (int i = 1; i < steps; ++i) {
    auto killed =
        Tandem({"worker", "--once"}, {"TANDEM_TEST_KILL_AFTER=contract:" + std::to_string(i)});
    ASSERT_EQ(killed.exit_code, 128 + 9) << killed.out << killed.err;
    for (int step : StepsLogged(killed.err)) ran.push_back(step);
    WaitForKilledSessions();
    EXPECT_EQ(ContractSteps(), std::to_string(i));
    EXPECT_EQ(JobStatus(), "running");
    EXPECT_EQ(QueryValue("SELECT statements_done FROM tandem.jobs WHERE id = " + id),
              std::to_string(i));
    auto status = Tandem({"status"});
    EXPECT_NE(status.out.find("online: contracting (job " + id + ", running)"), std::string::npos)
        << status.out;
  }
  auto last = Tandem({"worker", "--once"});
  EXPECT_EQ(last.exit_code, 0) << last.out << last.err;
  for (int step : StepsLogged(last.err)) ran.push_back(step);
  std::vector<int> each;
  for (int i = 1; i <= steps; ++i) each.push_back(i);
  EXPECT_EQ(ran, each);
  EXPECT_EQ(JobStatus(), "succeeded");
  ExpectRenamed();
  EXPECT_EQ(ContractSteps(), std::to_string(steps));
  EXPECT_NE(QueryValue("SELECT detail->>'reason' FROM tandem.events WHERE event = 'job.running' "
                       "AND detail->>'kind' = 'contract' ORDER BY id DESC LIMIT 1")
                .find("taken over"),
            std::string::npos);
}

// Queued, not started: abort cancels the job and undoes the expand; the worker runs nothing.
TEST_F(ContractJobTest, AbortCancelsAQueuedContractAndUndoesTheExpand) {
  UsersTable();
  std::string before = Snapshot();
  dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  ASSERT_EQ(Tandem({"jobs", "finalize", BackfillJob()}).exit_code, 0);
  ASSERT_EQ(Tandem({"complete", "2"}).exit_code, 0);
  auto aborted = Tandem({"abort", "2"});
  ASSERT_EQ(aborted.exit_code, 0) << aborted.out << aborted.err;
  EXPECT_EQ(JobStatus(), "cancelled");
  EXPECT_EQ(State(), "aborted");
  EXPECT_EQ(Snapshot(), before);
  auto worker = Tandem({"worker", "--once"});
  EXPECT_EQ(worker.exit_code, 0) << worker.err;
  EXPECT_EQ(JobStatus(), "cancelled");
  EXPECT_EQ(ContractSteps(), "0");
  EXPECT_EQ(Snapshot(), before);
  // complete of an aborted migration is refused.
  EXPECT_EQ(Tandem({"complete", "2"}).exit_code, 1);
}

// The worker was killed while it waited for a lock at the first contract step (nothing
// recorded, the job left running, the state contracting): abort still undoes everything.
TEST_F(ContractJobTest, AbortUndoesAContractKilledBeforeItsFirstStep) {
  UsersTable();
  std::string before = Snapshot();
  dir_.Write("tandem.toml", "[release]\nlock_timeout = \"100ms\"\nretry_budget = \"60s\"\n");
  dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  ASSERT_EQ(Tandem({"jobs", "finalize", BackfillJob()}).exit_code, 0);
  ASSERT_EQ(Tandem({"complete", "2"}).exit_code, 0);
  // A session holding a lock that blocks every write to users: the first step retries.
  auto blocker = Connect();
  ASSERT_TRUE(blocker->Exec("BEGIN").ok());
  ASSERT_TRUE(blocker->Exec("LOCK TABLE users IN EXCLUSIVE MODE").ok());
  pid_t worker = Start({"worker"});
  ASSERT_TRUE(WaitFor("SELECT state = 'contracting' FROM tandem.online_migrations"));
  ASSERT_TRUE(
      WaitFor("SELECT count(*) > 0 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE "
              "c.relname = 'users' AND NOT l.granted"));
  kill(worker, SIGKILL);
  ASSERT_TRUE(WaitForExit(worker).ok());
  // The step's transaction was sent whole: its session would still commit it once the lock is
  // free. It ends at its next lock timeout, when it finds its client gone.
  WaitForKilledSessions();
  ASSERT_TRUE(blocker->Exec("ROLLBACK").ok());
  EXPECT_EQ(JobStatus(), "running");
  EXPECT_EQ(ContractSteps(), "0");
  auto aborted = Tandem({"abort", "2"});
  ASSERT_EQ(aborted.exit_code, 0) << aborted.out << aborted.err;
  EXPECT_EQ(JobStatus(), "cancelled");
  EXPECT_EQ(State(), "aborted");
  EXPECT_EQ(Snapshot(), before);
}

// Once a contract step has run, abort is refused with exit 1 and changes nothing; complete
// (queued again, or --now) finishes it.
TEST_F(ContractJobTest, AbortIsRefusedOnceAContractStepRanAndCompleteFinishesIt) {
  int steps = ReadyRename();
  ASSERT_EQ(Tandem({"complete", "2"}).exit_code, 0);
  std::string id = ContractJob();
  auto killed = Tandem({"worker", "--once"}, {"TANDEM_TEST_KILL_AFTER=contract:1"});
  ASSERT_EQ(killed.exit_code, 128 + 9) << killed.err;
  WaitForKilledSessions();
  std::string schema = Snapshot();
  std::string records = Records();
  auto refused = Tandem({"abort", "2"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("contract of 2 has started (step 1 of " + std::to_string(steps) +
                             " done); it cannot be undone without losing the old columns"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("run \"tandem complete 2\" to finish it"), std::string::npos)
      << refused.err;
  EXPECT_EQ(Snapshot(), schema);
  EXPECT_EQ(Records(), records);
  // The job a dead worker left: complete says so (the next worker takes it over) and --now runs
  // it here, recording the job's outcome.
  auto again = Tandem({"complete", "2"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("is job " + id + " (running) already"), std::string::npos) << again.out;
  auto now = Tandem({"complete", "2", "--now"});
  ASSERT_EQ(now.exit_code, 0) << now.out << now.err;
  EXPECT_EQ(JobStatus(), "succeeded");
  ExpectRenamed();
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.jobs WHERE kind = 'contract'"), "1");
  auto worker = Tandem({"worker", "--once"});
  EXPECT_EQ(worker.exit_code, 0) << worker.err;
  EXPECT_TRUE(StepsLogged(worker.err).empty()) << worker.err;
}

// A contract that failed half-way (a step could not get its lock within the retry
// budget) stays failed and named; abort refuses it; complete queues it again and the worker
// goes on from the step that failed.
TEST_F(ContractJobTest, AContractFailedHalfWayIsFinishedByCompleteAgain) {
  dir_.Write("tandem.toml",
             "[release]\nlock_timeout = \"100ms\"\nretry_budget = \"1s\"\n"
             "[worker]\nmax_attempts = 1\n");
  int steps = ReadyRename();
  ASSERT_EQ(Tandem({"complete", "2"}).exit_code, 0);
  std::string id = ContractJob();
  // ACCESS SHARE (a reader's lock, held in a read-committed transaction with no snapshot) lets
  // the update pass and the concurrent index builds through and blocks the catalog step.
  auto reader = Connect();
  ASSERT_TRUE(reader->Exec("BEGIN").ok());
  ASSERT_TRUE(reader->Exec("LOCK TABLE users IN ACCESS SHARE MODE").ok());
  auto worker = Tandem({"worker", "--once"});
  EXPECT_EQ(worker.exit_code, 1) << worker.out << worker.err;
  ASSERT_TRUE(reader->Exec("ROLLBACK").ok());
  EXPECT_EQ(JobStatus(), "failed");
  // The first step that takes a lock the reader's conflicts with fails (which one depends on
  // what the plan carries over); the steps before it are done.
  int failed = std::stoi(ContractSteps()) + 1;
  EXPECT_GE(failed, 2);
  EXPECT_LE(failed, steps);
  auto status = Tandem({"status"});
  EXPECT_NE(status.out.find("online: failed at contract step " + std::to_string(failed)),
            std::string::npos)
      << status.out;
  std::string records = Records();
  EXPECT_EQ(Tandem({"abort", "2"}).exit_code, 1);
  EXPECT_EQ(Records(), records);
  auto again = Tandem({"complete", "2"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("queued again as job " + id), std::string::npos) << again.out;
  auto rerun = Tandem({"worker", "--once"});
  EXPECT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  std::vector<int> rest;
  for (int step = failed; step <= steps; ++step) rest.push_back(step);
  EXPECT_EQ(StepsLogged(rerun.err), rest);
  EXPECT_EQ(JobStatus(), "succeeded");
  ExpectRenamed();
}

// A database whose state schema is at version 3 (before contract jobs): complete upgrades it
// under the runner lock, keeps every job, and the widened check takes the new kind only.
TEST_F(ContractJobTest, StateSchemaAtVersionThreeUpgradesForContractJobs) {
  ASSERT_EQ(migrate::LatestStateVersion(), 4);
  ReadyRename();
  // Back to version 3 exactly as step 2 and 3 left it.
  auto c = Connect();
  ASSERT_TRUE(c->Exec("ALTER TABLE tandem.jobs DROP CONSTRAINT jobs_kind_check").ok());
  ASSERT_TRUE(c->Exec("ALTER TABLE tandem.jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN "
                      "('post-deploy', 'background'))")
                  .ok());
  ASSERT_TRUE(c->Exec("DELETE FROM tandem.state_version WHERE version = 4").ok());
  std::string jobs =
      QueryValue("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM tandem.jobs t");
  auto queued = Tandem({"complete", "2"});
  ASSERT_EQ(queued.exit_code, 0) << queued.out << queued.err;
  EXPECT_EQ(QueryValue("SELECT max(version) FROM tandem.state_version"), "4");
  EXPECT_EQ(QueryValue("SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM tandem.jobs t "
                       "WHERE kind <> 'contract'"),
            jobs);
  EXPECT_EQ(JobStatus(), "queued");
  EXPECT_EQ(QueryValue("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = "
                       "'jobs_kind_check'"),
            "CHECK ((kind = ANY (ARRAY['post-deploy'::text, 'background'::text, "
            "'contract'::text])))");
  Status bogus = c->Exec(
      "INSERT INTO tandem.jobs (kind, version, status, sql, checksum) VALUES ('bogus', 'x', "
      "'queued', '', '')");
  EXPECT_EQ(bogus.sqlstate(), "23514") << bogus.ToString();
  // Upgraded once: a second command finds it current.
  EXPECT_EQ(Tandem({"complete", "2"}).exit_code, 0);
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.state_version"), "4");
}

}  // namespace
}  // namespace tandem::testing
