#include "base/duration.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(DurationTest, ParsesUnits) {
  EXPECT_EQ(ParseDuration("500ms")->count(), 500);
  EXPECT_EQ(ParseDuration("500")->count(), 500);
  EXPECT_EQ(ParseDuration("15s")->count(), 15'000);
  EXPECT_EQ(ParseDuration("1.5s")->count(), 1'500);
  EXPECT_EQ(ParseDuration("10min")->count(), 600'000);
  EXPECT_EQ(ParseDuration("2m")->count(), 120'000);
  EXPECT_EQ(ParseDuration("1h")->count(), 3'600'000);
}

TEST(DurationTest, RejectsGarbageWithAHint) {
  for (const char* bad : {"", "ms", "5 parsecs", "-1s", "1.2.3s"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
    EXPECT_NE(r.status().hint().find("500ms"), std::string::npos);
  }
}

TEST(DurationTest, RefusesWhatPostgresCannotTakeAsTooLarge) {
  EXPECT_EQ(ParseDuration("2147483647ms")->count(), 2147483647);
  EXPECT_EQ(ParseDuration("596h")->count(), 596LL * 3'600'000);
  for (const char* big :
       {"2147483648", "3000000s", "597h", "99999999999999999999999999h", "1e400"}) {
    auto r = ParseDuration(big);
    ASSERT_FALSE(r.ok()) << big;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
    if (std::string(big) != "1e400") {
      EXPECT_NE(r.status().message().find("too large"), std::string::npos) << big;
      EXPECT_EQ(r.status().message().find("negative"), std::string::npos) << big;
    }
  }
}

TEST(DurationTest, FormatsForHumans) {
  EXPECT_EQ(FormatDuration(Duration(850)), "850ms");
  EXPECT_EQ(FormatDuration(Duration(12'300)), "12.3s");
  EXPECT_EQ(FormatDuration(Duration(245'000)), "4m05s");
}

}  // namespace
}  // namespace tandem
