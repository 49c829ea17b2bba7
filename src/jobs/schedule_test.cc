#include "jobs/schedule.h"

#include <gtest/gtest.h>

namespace tandem::jobs {
namespace {

Job MakeJob(long long id, std::string version, JobStatus status, std::string run_after = "") {
  Job job;
  job.id = id;
  job.kind = "post-deploy";
  job.version = std::move(version);
  job.status = status;
  job.layout = "tandem";
  job.run_after = std::move(run_after);
  return job;
}

migrate::HistoryRow Row(std::string version, std::string phase, std::string status) {
  migrate::HistoryRow row;
  row.version = std::move(version);
  row.phase = std::move(phase);
  row.status = std::move(status);
  return row;
}

const std::string kNow = "2026-11-30T12:00:00.000Z";

TEST(ScheduleTest, OldestFirstInNumericVersionOrder) {
  // "10" sorts after "9" even though it was queued first.
  Schedule s = ComputeSchedule(
      {MakeJob(1, "10", JobStatus::kQueued), MakeJob(2, "9", JobStatus::kQueued)}, {}, kNow);
  ASSERT_TRUE(s.next);
  EXPECT_EQ(*s.next, 2);
  ASSERT_EQ(s.waiting.size(), 1u);
  EXPECT_EQ(s.waiting[0].job, 1);
  EXPECT_EQ(s.waiting[0].reason, "blocked by 9 (queued)");
  EXPECT_FALSE(s.needs_person);
}

TEST(ScheduleTest, DoneJobsDoNotBlockAndFailedOnesDo) {
  Schedule s = ComputeSchedule(
      {MakeJob(1, "1", JobStatus::kSucceeded), MakeJob(2, "2", JobStatus::kCancelled),
       MakeJob(3, "3", JobStatus::kFailed), MakeJob(4, "4", JobStatus::kQueued)},
      {}, kNow);
  EXPECT_FALSE(s.next);
  EXPECT_TRUE(s.needs_person);
  ASSERT_EQ(s.waiting.size(), 2u);
  EXPECT_EQ(s.waiting[0].reason, "waiting for a person (failed)");
  EXPECT_EQ(s.waiting[1].reason, "blocked by 3 (failed)");
}

TEST(ScheduleTest, RetryingRunsOnlyWhenDue) {
  Schedule later = ComputeSchedule(
      {MakeJob(1, "1", JobStatus::kRetrying, "2026-11-30T12:00:05.000Z")}, {}, kNow);
  EXPECT_FALSE(later.next);
  ASSERT_TRUE(later.next_due_at);
  EXPECT_EQ(*later.next_due_at, "2026-11-30T12:00:05.000Z");
  EXPECT_FALSE(later.needs_person);
  Schedule due = ComputeSchedule(
      {MakeJob(1, "1", JobStatus::kRetrying, "2026-11-30T11:59:59.000Z")}, {}, kNow);
  ASSERT_TRUE(due.next);
}

TEST(ScheduleTest, WaitsForOlderPreDeployMigrationsOnly) {
  std::vector<migrate::HistoryRow> history = {Row("1", "pre-deploy", "succeeded"),
                                              Row("3", "pre-deploy", "running"),
                                              Row("7", "pre-deploy", "failed")};
  Schedule s = ComputeSchedule({MakeJob(1, "5", JobStatus::kQueued)}, history, kNow);
  EXPECT_FALSE(s.next);
  ASSERT_EQ(s.waiting.size(), 1u);
  EXPECT_EQ(s.waiting[0].reason, "waiting for pre-deploy 3 (running)");
  EXPECT_FALSE(s.needs_person);  // a release still running needs nobody
  s = ComputeSchedule({MakeJob(1, "8", JobStatus::kQueued)}, history, kNow);
  EXPECT_EQ(s.waiting[0].reason, "waiting for pre-deploy 3 (running)");
  history[1].status = "failed";
  s = ComputeSchedule({MakeJob(1, "8", JobStatus::kQueued)}, history, kNow);
  EXPECT_TRUE(s.needs_person);
}

TEST(ScheduleTest, BackgroundJobsRunBesideThePostDeployJobOnePerTable) {
  Job background = MakeJob(1, "1", JobStatus::kQueued);
  background.kind = "background";
  background.batch = R"({"table":"users","key":"id","size":"auto"})";
  Schedule s = ComputeSchedule({background, MakeJob(2, "2", JobStatus::kQueued)}, {}, kNow);
  ASSERT_TRUE(s.next);
  EXPECT_EQ(*s.next, 2);
  EXPECT_EQ(s.background, std::vector<long long>{1});
  EXPECT_TRUE(s.waiting.empty());
  // Another table runs beside it; the same table waits for the older job.
  Job other = background;
  other.id = 3;
  other.version = "3";
  other.batch = R"({"table":"orders","key":"id","size":"auto"})";
  Job same = background;
  same.id = 4;
  same.version = "4";
  s = ComputeSchedule({same, other, background}, {}, kNow);
  EXPECT_FALSE(s.next);
  EXPECT_EQ(s.background, (std::vector<long long>{1, 3}));
  ASSERT_EQ(s.waiting.size(), 1u);
  EXPECT_EQ(s.waiting[0].job, 4);
  EXPECT_EQ(s.waiting[0].reason, "waiting for job 1 on table users");
}

TEST(ScheduleTest, APausedBackgroundJobBlocksNoOtherOne) {
  Job paused = MakeJob(1, "1", JobStatus::kPaused);
  paused.kind = "background";
  Job queued = MakeJob(2, "2", JobStatus::kQueued);
  queued.kind = "background";
  Schedule s = ComputeSchedule({paused, queued}, {}, kNow);
  EXPECT_EQ(s.background, std::vector<long long>{2});
  EXPECT_TRUE(s.needs_person);
  // It waits for the pre-deploy migrations before it, like post-deploy jobs.
  std::vector<migrate::HistoryRow> history(1);
  history[0].version = "1";
  history[0].phase = "pre-deploy";
  history[0].status = "running";
  s = ComputeSchedule({queued}, history, kNow);
  EXPECT_TRUE(s.background.empty());
  ASSERT_EQ(s.waiting.size(), 1u);
  EXPECT_EQ(s.waiting[0].reason, "waiting for pre-deploy 1 (running)");
}

TEST(ScheduleTest, AnOrphanedRunningJobIsTakenOver) {
  Schedule s = ComputeSchedule({MakeJob(1, "1", JobStatus::kRunning)}, {}, kNow);
  ASSERT_TRUE(s.next);
  EXPECT_EQ(*s.next, 1);
}

// A contract job (tandem complete) waits behind the post-deploy jobs of older versions, blocks
// those of newer ones, and never joins a run of small jobs.
TEST(ScheduleTest, ContractJobsAreOrderedAsPostDeployJobsAndRunAlone) {
  Job contract = MakeJob(3, "2", JobStatus::kQueued);
  contract.kind = "contract";
  contract.transactional = false;
  Job before = MakeJob(1, "1", JobStatus::kQueued);
  Job after = MakeJob(2, "3", JobStatus::kQueued);
  Schedule s = ComputeSchedule({before, after, contract}, {}, kNow);
  ASSERT_TRUE(s.next);
  EXPECT_EQ(*s.next, 1);
  EXPECT_TRUE(s.run.empty());
  ASSERT_EQ(s.waiting.size(), 2u);
  EXPECT_EQ(s.waiting[0].job, 3);
  EXPECT_TRUE(s.background.empty());
  before.status = JobStatus::kSucceeded;
  s = ComputeSchedule({before, after, contract}, {}, kNow);
  ASSERT_TRUE(s.next);
  EXPECT_EQ(*s.next, 3);
  EXPECT_TRUE(s.run.empty());
  // Even a transactional one is not applied with the jobs behind it.
  contract.transactional = true;
  Job later = MakeJob(4, "4", JobStatus::kQueued);
  s = ComputeSchedule({before, after, contract, later}, {}, kNow);
  EXPECT_EQ(*s.next, 3);
  EXPECT_TRUE(s.run.empty());
  ASSERT_EQ(s.waiting.size(), 2u);
  EXPECT_EQ(s.waiting[0].reason, "blocked by 2 (queued)");
}

}  // namespace
}  // namespace tandem::jobs
