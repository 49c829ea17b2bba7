#include "background/progress.h"

#include <gtest/gtest.h>

namespace tandem::background {
namespace {

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
