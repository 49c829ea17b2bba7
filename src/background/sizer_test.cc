#include "background/sizer.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace tandem::background {
namespace {

// A table where a batch costs 2 µs per key plus 1 ms: 100,000 keys make the 200 ms target.
Duration Cost(long long size) { return Duration(1 + size * 2 / 1000); }

TEST(BackgroundSizer, ConvergesOnTheTargetInAFewBatches) {
  Sizer sizer({Duration(200), 10, 2'000'000, 1000}, 0, 0);
  int batches = 0;
  while (batches < 20) {
    Duration took = Cost(sizer.size());
    ++batches;
    if (took.count() >= 160 && took.count() <= 250) break;
    sizer.Observe(took);
  }
  EXPECT_LE(batches, 5) << "size " << sizer.size();
  // Once there, it stays (timing noise within 20% changes nothing).
  long long settled = sizer.size();
  sizer.Observe(Duration(180));
  sizer.Observe(Duration(230));
  EXPECT_EQ(sizer.size(), settled);
}

TEST(BackgroundSizer, ShrinksAtMostByHalfAndStaysWithinBounds) {
  Sizer sizer({Duration(200), 10, 50'000, 1000}, 0, 40'000);
  sizer.Observe(Duration(10'000));  // 50x too slow
  EXPECT_EQ(sizer.size(), 20'000);
  for (int i = 0; i < 20; ++i) sizer.Observe(Duration(10'000));
  EXPECT_EQ(sizer.size(), 10);
  for (int i = 0; i < 20; ++i) sizer.Observe(Duration(1));
  EXPECT_EQ(sizer.size(), 50'000);
}

TEST(BackgroundSizer, AFixedSizeNeverMovesButSplitsAfterATimeout) {
  Sizer sizer({Duration(200), 10, 50'000, 1000}, 500, 0);
  sizer.Observe(Duration(1));
  EXPECT_EQ(sizer.size(), 500);
  EXPECT_TRUE(sizer.Split());
  EXPECT_EQ(sizer.size(), 250);
  Sizer one({Duration(200), 10, 50'000, 1000}, 1, 0);
  EXPECT_FALSE(one.Split());
}

}  // namespace
}  // namespace tandem::background
