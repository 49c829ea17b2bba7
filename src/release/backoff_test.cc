// Backoff, query shortening and limit resolution: pure logic, no server.
#include "release/backoff.h"

#include <gtest/gtest.h>

#include <set>

#include "release/blockers.h"
#include "release/release.h"

namespace tandem::release {
namespace {

TEST(ReleaseBackoff, GrowsExponentiallyWithEqualJitterAndStopsAtMax) {
  Backoff backoff({Duration(100), Duration(1000)}, /*seed=*/42);
  long long ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (long long ceiling : ceilings) {
    Duration d = backoff.Next();
    EXPECT_GE(d.count(), ceiling / 2) << "ceiling " << ceiling;
    EXPECT_LE(d.count(), ceiling) << "ceiling " << ceiling;
  }
  EXPECT_EQ(backoff.retries(), 7);
}

TEST(ReleaseBackoff, JitterSpreadsRunnersThatStartTogether) {
  // Ten runners blocked by the same transaction must not retry in the same instant.
  std::set<long long> waits;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    Backoff backoff({Duration(1000), Duration(10'000)}, seed);
    waits.insert(backoff.Next().count());
  }
  EXPECT_GE(waits.size(), 8u);
}

TEST(ReleaseBackoff, SameSeedSameWaits) {
  Backoff a({Duration(200), Duration(10'000)}, 7), b({Duration(200), Duration(10'000)}, 7);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(a.Next(), b.Next());
}

TEST(ReleaseBlockers, ShortenQueryCollapsesWhitespaceAndCuts) {
  EXPECT_EQ(ShortenQuery("SELECT *\n  FROM   t\tWHERE id = 1"), "SELECT * FROM t WHERE id = 1");
  std::string long_query = "SELECT " + std::string(200, 'x');
  std::string shortened = ShortenQuery(long_query, 20);
  EXPECT_EQ(shortened.size(), 20u);
  EXPECT_EQ(shortened.substr(17), "...");
}

TEST(ReleaseBlockers, DescribesBlockerAndLockWait) {
  Blocker b{4242, "psql", "idle in transaction", Duration(19'800), "SELECT count(*) FROM t"};
  EXPECT_EQ(DescribeBlocker(b),
            "pid 4242 (application_name \"psql\", idle in transaction, transaction open 19.8s): "
            "SELECT count(*) FROM t");
  EXPECT_EQ(DescribeLockWait({"relation", "t", "AccessExclusiveLock"}),
            "AccessExclusiveLock on table t");
}

TEST(ReleaseLimits, DirectivesWinOverSettingsAndZeroLockTimeoutIsRefused) {
  config::ReleaseSettings settings;
  migrate::Migration m;
  m.paths = {"db/migrations/1_a.sql"};
  auto limits = LimitsFor(m, settings);
  ASSERT_TRUE(limits.ok());
  EXPECT_EQ(*limits->lock_timeout, Duration(500));
  EXPECT_EQ(*limits->statement_timeout, Duration(15 * 60 * 1000));
  EXPECT_TRUE(limits->idle_in_transaction_timeout.has_value());

  m.lock_timeout = Duration(2000);
  m.statement_timeout = Duration(60'000);
  limits = LimitsFor(m, settings);
  ASSERT_TRUE(limits.ok());
  EXPECT_EQ(*limits->lock_timeout, Duration(2000));
  EXPECT_EQ(*limits->statement_timeout, Duration(60'000));

  m.lock_timeout = Duration(0);
  limits = LimitsFor(m, settings);
  ASSERT_FALSE(limits.ok());
  EXPECT_EQ(limits.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(limits.status().message(), "lock_timeout must be greater than zero");
}

}  // namespace
}  // namespace tandem::release
