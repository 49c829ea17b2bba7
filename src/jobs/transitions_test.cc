// The job state machine against the real server: which transitions each state allows, the
// event each writes (who and why), and the NOTIFY that wakes workers.
#include "jobs/transitions.h"

#include <gtest/gtest.h>

#include "migrate/state.h"
#include "pg/quote.h"
#include "testing/harness.h"

namespace tandem::jobs {
namespace {

class TransitionsTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    db_ = Connect();
    ASSERT_TRUE(migrate::EnsureStateSchema(*db_, "tandem").ok());
  }

  long long Queue(const std::string& version, bool approval = false) {
    migrate::Migration m;
    m.version = version;
    m.name = "job_" + version;
    m.phase = migrate::Phase::kPostDeploy;
    m.paths = {"db/migrations/" + version + "_job.sql"};
    m.up.present = true;
    m.up.path = m.paths[0];
    m.up.text = "SELECT 1;\n";
    m.up.text_line = 2;
    m.checksum = "abc";
    Status s = QueueJobs(*db_, "tandem", {&m}, approval, {"release-bot", ""}, "tandem");
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::stoll(QueryValue("SELECT id FROM tandem.jobs WHERE version = '" + version + "'"));
  }

  std::string LastEvent() {
    return QueryValue(
        "SELECT event || ' ' || actor || ' ' || (detail->>'from') || '>' || (detail->>'to') || "
        "' ' || coalesce(detail->>'reason', '-') FROM tandem.events ORDER BY id DESC LIMIT 1");
  }

  std::unique_ptr<pg::Connection> db_;
  Change alice_{"alice", "looked at it"};
};

TEST_F(TransitionsTest, QueueIsIdempotentAndRecordsTheSql) {
  long long id = Queue("5");
  EXPECT_EQ(Queue("5"), id);
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.jobs"), "1");
  auto job = FindJob(*db_, "tandem", id);
  ASSERT_TRUE(job.ok() && *job);
  EXPECT_EQ((*job)->sql, "SELECT 1;\n");
  EXPECT_EQ((*job)->sql_line, 2);
  EXPECT_EQ((*job)->status, JobStatus::kQueued);
  migrate::Migration m = MigrationOf(**job);
  EXPECT_EQ(m.up.text, "SELECT 1;\n");
  EXPECT_EQ(m.phase, migrate::Phase::kPostDeploy);
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events WHERE event = 'job.queued'"), "1");
}

TEST_F(TransitionsTest, EveryTransitionNotifiesAndRecordsWhoAndWhy) {
  auto listener = Connect();
  ASSERT_TRUE(listener->Exec("LISTEN tandem_jobs").ok());
  long long id = Queue("1", /*approval=*/true);
  auto woke = listener->WaitForNotifications(Duration(2000));
  ASSERT_TRUE(woke.ok());
  ASSERT_EQ(woke->size(), 1u);
  EXPECT_EQ(woke->front(), std::to_string(id));

  ASSERT_TRUE(Pause(*db_, "tandem", id, alice_).ok());
  EXPECT_EQ(LastEvent(), "job.paused alice awaiting-approval>paused looked at it");
  // Approved while paused: still paused, and resuming goes to queued.
  auto approved = Approve(*db_, "tandem", id, alice_);
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  EXPECT_EQ(approved->status, JobStatus::kPaused);
  EXPECT_TRUE(approved->approved);
  auto resumed = Resume(*db_, "tandem", id, {"bob", ""});
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->status, JobStatus::kQueued);
  EXPECT_EQ(LastEvent(), "job.queued bob paused>queued -");
  auto more = listener->WaitForNotifications(Duration(1000));
  ASSERT_TRUE(more.ok());
  EXPECT_GE(more->size(), 1u);
}

TEST_F(TransitionsTest, RunningJobsTakeRequestsAndFinishOnce) {
  long long id = Queue("1");
  auto claimed = Claim(*db_, "tandem", id, {"worker-1", ""});
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  EXPECT_EQ(claimed->status, JobStatus::kRunning);
  EXPECT_EQ(claimed->attempts, 1);
  EXPECT_EQ(claimed->worker, "worker-1");
  // Claiming a running job is a takeover (only the holder of the worker lock claims, so the
  // worker that ran it is gone): it keeps the attempt count.
  auto taken = Claim(*db_, "tandem", id, {"worker-2", "taken over"});
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->attempts, 1);

  auto paused = Pause(*db_, "tandem", id, alice_);
  ASSERT_TRUE(paused.ok());
  EXPECT_EQ(paused->status, JobStatus::kRunning);
  EXPECT_EQ(paused->requested, "pause");
  EXPECT_EQ(LastEvent(), "job.pause-requested alice running>running looked at it");
  auto resumed = Resume(*db_, "tandem", id, alice_);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->requested, "");
  auto cancel = Cancel(*db_, "tandem", id, alice_);
  ASSERT_TRUE(cancel.ok());
  EXPECT_EQ(cancel->requested, "cancel");
  // Cancelling wins over pausing.
  EXPECT_EQ(Pause(*db_, "tandem", id, alice_).status().code(), StatusCode::kFailed);

  Outcome outcome;
  outcome.to = JobStatus::kCancelled;
  outcome.duration = Duration(1234);
  outcome.error = JobError{"57014",    "canceling statement due to user request",
                           "SELECT 1", "db/migrations/1_job.sql",
                           2,          1};
  auto finished = Finish(*db_, "tandem", id, outcome, {"worker-2", "cancelled by a person"});
  ASSERT_TRUE(finished.ok()) << finished.status().ToString();
  EXPECT_EQ(finished->status, JobStatus::kCancelled);
  EXPECT_EQ(finished->requested, "");
  EXPECT_EQ(finished->duration_ms, 1234);
  ASSERT_TRUE(finished->error);
  EXPECT_EQ(finished->error->line, 2);
  EXPECT_EQ(QueryValue("SELECT detail->'error'->>'sqlstate' FROM tandem.events ORDER BY id DESC "
                       "LIMIT 1"),
            "57014");
  // Finishing twice is refused: exactly one outcome per attempt.
  EXPECT_EQ(Finish(*db_, "tandem", id, outcome, {"worker-2", ""}).status().code(),
            StatusCode::kFailed);
  // A cancelled job can be retried, with a fresh budget of attempts.
  auto retried = Retry(*db_, "tandem", id, alice_);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->status, JobStatus::kQueued);
  EXPECT_EQ(retried->attempts, 0);
}

TEST_F(TransitionsTest, RefusedTransitionsSayWhyAndWhatToDo) {
  long long id = Queue("1");
  auto resume = Resume(*db_, "tandem", id, alice_);
  ASSERT_FALSE(resume.ok());
  EXPECT_EQ(resume.status().code(), StatusCode::kFailed);
  EXPECT_EQ(resume.status().message(),
            "cannot resume job " + std::to_string(id) + " (1 job_1): it is queued");
  EXPECT_EQ(resume.status().hint(), "only paused jobs can be resumed");
  EXPECT_EQ(Retry(*db_, "tandem", id, alice_).status().code(), StatusCode::kFailed);
  EXPECT_EQ(Approve(*db_, "tandem", id, alice_).status().code(), StatusCode::kFailed);
  EXPECT_EQ(Cancel(*db_, "tandem", 4242, alice_).status().code(), StatusCode::kInvalidInput);
  // Nothing was recorded for refused transitions.
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events"), "1");
}

TEST_F(TransitionsTest, PauseAllAndResumeAllTouchOnlyWhatApplies) {
  long long a = Queue("1"), b = Queue("2"), c = Queue("3");
  Outcome done;
  ASSERT_TRUE(Claim(*db_, "tandem", a, {"w", ""}).ok());
  ASSERT_TRUE(Finish(*db_, "tandem", a, done, {"w", ""}).ok());
  auto paused = PauseAll(*db_, "tandem", alice_);
  ASSERT_TRUE(paused.ok());
  EXPECT_EQ(paused->size(), 2u);
  EXPECT_EQ(QueryValue("SELECT string_agg(status, ',' ORDER BY id) FROM tandem.jobs"),
            "succeeded,paused,paused");
  auto resumed = ResumeAll(*db_, "tandem", alice_);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->size(), 2u);
  EXPECT_EQ(QueryValue("SELECT string_agg(status, ',' ORDER BY id) FROM tandem.jobs"),
            "succeeded,queued,queued");
  (void)b;
  (void)c;
}

}  // namespace
}  // namespace tandem::jobs
