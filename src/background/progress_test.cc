#include "background/progress.h"

#include <gtest/gtest.h>

namespace tandem::background {
namespace {

// The dashboard's chart reads this history: batches within kHistorySeconds share a bucket, and
// only the newest kHistoryBuckets are kept, so the document stays small however long the job.
TEST(BackgroundProgress, HistoryIsBucketedAndBounded) {
  Progress p;
  RecordBatch(p, 1'000'000, 100, 20);
  RecordBatch(p, 1'004'000, 50, 30);  // same bucket (4 s later)
  RecordBatch(p, 1'010'000, 70, 10);  // a new one (10 s after the bucket began)
  ASSERT_EQ(p.history.size(), 2u);
  EXPECT_EQ(p.history[0].rows, 150);
  EXPECT_EQ(p.history[0].batches, 2);
  EXPECT_EQ(p.history[0].busy_ms, 50);
  EXPECT_EQ(p.history[1].at_ms, 1'010'000);
  Progress q = ParseProgress(ToText(p));
  ASSERT_EQ(q.history.size(), 2u);
  EXPECT_EQ(q.history[1].rows, 70);
  for (int i = 0; i < 200; ++i) RecordBatch(p, 2'000'000 + i * 10'000LL, 1, 1);
  EXPECT_EQ(p.history.size(), kHistoryBuckets);
  EXPECT_EQ(p.history.back().at_ms, 2'000'000 + 199 * 10'000LL);
}

TEST(BackgroundProgress, RoundTripsAndSummarises) {
  Progress p;
  p.key_kind = "integer";
  p.min = 1;
  p.max = 50'000;
  p.cursor = "12346";
  p.batches = 12;
  p.rows_done = 12'345;
  p.estimated_total = 50'000;
  p.batch_size = 5000;
  p.rate = 4321;
  p.throttled_ms = 3000;
  p.throttled_reason = "replication lag";
  p.throttled_value = "6.1s";
  Progress q = ParseProgress(ToText(p));
  EXPECT_EQ(ToText(q), ToText(p));
  EXPECT_EQ(EtaSeconds(q), 9);
  EXPECT_EQ(Summary(q),
            "12,345 of ~50,000 rows (24%), 4,321 rows/s, ETA 9s, batch 5,000, throttled 3s, "
            "throttled now: replication lag 6.1s");
  EXPECT_TRUE(ParseProgress("{}").key_kind.empty());
  EXPECT_TRUE(ParseProgress("not json").key_kind.empty());
  EXPECT_EQ(Summary(ParseProgress("{}")), "");
}

}  // namespace
}  // namespace tandem::background
