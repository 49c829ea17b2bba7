#include "fleet/rollout.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

namespace tandem::fleet {
namespace {

std::vector<Target> Fleet(int n, int canaries = 0) {
  std::vector<Target> targets;
  for (int i = 0; i < n; ++i) {
    Target t;
    t.name = "shard-" + std::to_string(i);
    if (i >= n - canaries) t.groups = {"canary"};  // canaries last in the list: order is ours
    targets.push_back(t);
  }
  return targets;
}

// A fake operation that records what ran, how many ran at once, and fails the named targets.
struct Recorder {
  std::set<std::string> failing;
  std::set<std::string> unreachable;
  std::chrono::milliseconds work{5};
  std::mutex mutex;
  std::vector<std::string> started;
  std::atomic<int> running{0};
  std::atomic<int> peak{0};

  Operation op() {
    return [this](const Target& t) -> Status {
      {
        std::lock_guard<std::mutex> lock(mutex);
        started.push_back(t.name);
      }
      int now = ++running;
      int seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) {
      }
      Status result = Status::Ok();
      if (failing.count(t.name)) {
        result = Status::Failed("boom on " + t.name);
      } else if (unreachable.count(t.name)) {
        result = Status::Unavailable("could not connect").WithSqlState(kUnreachableSqlState);
      } else {
        std::this_thread::sleep_for(work);
      }
      --running;
      return result;
    };
  }
};

TEST(RolloutTest, AllSucceedWithinTheConcurrencyLimit) {
  Recorder rec;
  RolloutOptions options;
  options.concurrency = 4;
  auto report = Rollout(Fleet(40), rec.op(), options);
  EXPECT_TRUE(report.AllOk());
  EXPECT_EQ(rec.started.size(), 40u);
  EXPECT_EQ(rec.peak.load(), 4);
  EXPECT_EQ(report.peak_running, 4);
  EXPECT_FALSE(report.stopped);
  EXPECT_FALSE(report.canary_failed);
}

TEST(RolloutTest, CanariesRunFirstAndAllOfThem) {
  Recorder rec;
  RolloutOptions options;
  options.concurrency = 2;
  options.canary_group = "canary";
  auto report = Rollout(Fleet(10, 3), rec.op(), options);
  ASSERT_TRUE(report.AllOk());
  ASSERT_EQ(rec.started.size(), 10u);
  std::set<std::string> first(rec.started.begin(), rec.started.begin() + 3);
  EXPECT_EQ(first, (std::set<std::string>{"shard-7", "shard-8", "shard-9"}));
  EXPECT_TRUE(report.results[9].canary);
  EXPECT_FALSE(report.results[0].canary);
}

TEST(RolloutTest, CanaryFailureStopsBeforeAnyoneElse) {
  Recorder rec;
  rec.failing = {"shard-18"};
  RolloutOptions options;
  options.concurrency = 8;
  options.max_failures = 5;  // the canary rule does not wait for the budget
  options.canary_group = "canary";
  auto report = Rollout(Fleet(20, 3), rec.op(), options);
  EXPECT_TRUE(report.canary_failed);
  EXPECT_TRUE(report.stopped);
  // Every canary ran (they started together); nobody else did.
  EXPECT_EQ(std::set<std::string>(rec.started.begin(), rec.started.end()),
            (std::set<std::string>{"shard-17", "shard-18", "shard-19"}));
  EXPECT_EQ(report.results[18].outcome, Outcome::kFailed);
  EXPECT_EQ(report.results[18].error.message(), "boom on shard-18");
  EXPECT_EQ(report.Count(Outcome::kNotStarted), 17);
}

TEST(RolloutTest, FailureInTheSecondWaveStopsNewStartsRunningOnesFinish) {
  Recorder rec;
  rec.failing = {"shard-5"};
  rec.work = std::chrono::milliseconds(50);
  RolloutOptions options;
  options.concurrency = 4;
  options.max_failures = 1;
  auto report = Rollout(Fleet(30), rec.op(), options);
  EXPECT_TRUE(report.stopped);
  EXPECT_FALSE(report.canary_failed);
  EXPECT_EQ(report.results[5].outcome, Outcome::kFailed);
  // The first wave and the second wave's other members, already running, finished.
  for (int i : {0, 1, 2, 3, 4}) EXPECT_EQ(report.results[i].outcome, Outcome::kOk) << i;
  // At most the rest of the second wave (shard-6, shard-7) was in flight when shard-5 failed;
  // nothing after it was started.
  for (int i = 8; i < 30; ++i) {
    EXPECT_EQ(report.results[i].outcome, Outcome::kNotStarted) << i;
  }
  EXPECT_EQ(report.Count(Outcome::kFailed), 1);
  EXPECT_GE(report.Count(Outcome::kNotStarted), 22);
}

TEST(RolloutTest, FailureBudgetAllowsThatManyFailures) {
  Recorder rec;
  rec.failing = {"shard-1", "shard-3"};
  RolloutOptions options;
  options.concurrency = 1;  // sequential: the count is exact
  options.max_failures = 3;
  auto report = Rollout(Fleet(10), rec.op(), options);
  EXPECT_FALSE(report.stopped);
  EXPECT_EQ(report.Count(Outcome::kFailed), 2);
  EXPECT_EQ(report.Count(Outcome::kOk), 8);

  Recorder rec2;
  rec2.failing = {"shard-1", "shard-3"};
  options.max_failures = 2;
  auto stopped = Rollout(Fleet(10), rec2.op(), options);
  EXPECT_TRUE(stopped.stopped);
  EXPECT_EQ(rec2.started.size(), 4u);  // shard-0..3, then the budget is spent
  EXPECT_EQ(stopped.Count(Outcome::kNotStarted), 6);
}

TEST(RolloutTest, UnreachableIsReportedAndCountsAsAFailure) {
  Recorder rec;
  rec.unreachable = {"shard-2"};
  RolloutOptions options;
  options.concurrency = 1;
  options.max_failures = 0;  // a read-only fan-out: everyone is tried
  auto report = Rollout(Fleet(5), rec.op(), options);
  EXPECT_EQ(report.results[2].outcome, Outcome::kUnreachable);
  EXPECT_EQ(report.Count(Outcome::kOk), 4);
  EXPECT_FALSE(report.stopped);

  Recorder rec2;
  rec2.unreachable = {"shard-2"};
  options.max_failures = 1;
  auto stopped = Rollout(Fleet(5), rec2.op(), options);
  EXPECT_EQ(stopped.Count(Outcome::kNotStarted), 2);
}

TEST(RolloutTest, ProgressCountsAddUp) {
  Recorder rec;
  std::vector<Progress> seen;
  RolloutOptions options;
  options.concurrency = 3;
  options.on_progress = [&](const Progress& p) { seen.push_back(p); };
  auto report = Rollout(Fleet(9), rec.op(), options);
  ASSERT_EQ(seen.size(), 18u);  // one start and one finish each
  for (const Progress& p : seen) {
    EXPECT_EQ(p.done + p.running + p.failed + p.queued, 9);
    EXPECT_LE(p.running, 3);
  }
  EXPECT_EQ(seen.back().done, 9);
}

TEST(RolloutTest, EmptyFleetIsNothingToDo) {
  Recorder rec;
  auto report = Rollout({}, rec.op(), {});
  EXPECT_TRUE(report.AllOk());
  EXPECT_TRUE(rec.started.empty());
}

}  // namespace
}  // namespace tandem::fleet
