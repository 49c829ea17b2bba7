#include "migrate/migration.h"

#include <gtest/gtest.h>

namespace tandem::migrate {
namespace {

TEST(MigrationTest, PhaseNamesRoundTrip) {
  for (Phase p : {Phase::kPreDeploy, Phase::kPostDeploy, Phase::kBackground}) {
    EXPECT_EQ(ParsePhase(PhaseName(p)), p);
  }
  EXPECT_EQ(PhaseName(Phase::kPostDeploy), "post-deploy");
  EXPECT_EQ(ParsePhase("postdeploy"), std::nullopt);
  EXPECT_EQ(ParsePhase(""), std::nullopt);
}

TEST(MigrationTest, LayoutNamesRoundTripAndDbmateIsTandem) {
  for (Layout l : {Layout::kTandem, Layout::kGolangMigrate, Layout::kDiesel, Layout::kFlyway,
                   Layout::kGoose}) {
    EXPECT_EQ(ParseLayout(LayoutName(l)), l);
  }
  EXPECT_EQ(LayoutName(Layout::kGolangMigrate), "golang-migrate");
  EXPECT_EQ(ParseLayout("dbmate"), Layout::kTandem);
  EXPECT_EQ(ParseLayout("rails"), std::nullopt);
  EXPECT_EQ(ParseLayout("Goose"), std::nullopt);
}

TEST(MigrationTest, CompareVersionsIsNumericPerComponent) {
  EXPECT_LT(CompareVersions("2", "10"), 0);
  EXPECT_GT(CompareVersions("10", "2"), 0);
  EXPECT_EQ(CompareVersions("10", "10"), 0);
  EXPECT_LT(CompareVersions("1.2", "1.10"), 0);
  EXPECT_LT(CompareVersions("1.9.9", "2"), 0);
  EXPECT_LT(CompareVersions("1", "1.1"), 0);
  EXPECT_EQ(CompareVersions("1", "1.0"), 0);  // as Flyway reads them
  EXPECT_EQ(CompareVersions("1.0.0", "1"), 0);
}

TEST(MigrationTest, CompareVersionsIgnoresLeadingZeros) {
  EXPECT_EQ(CompareVersions("007", "7"), 0);
  EXPECT_EQ(CompareVersions("0001", "1"), 0);
  EXPECT_EQ(CompareVersions("0", "000"), 0);
  EXPECT_LT(CompareVersions("0009", "10"), 0);
  EXPECT_EQ(CompareVersions("1.02", "1.2"), 0);
}

TEST(MigrationTest, CompareVersionsHandlesDigitStringsLongerThan64Bits) {
  // kratos versions have 20 digits; uint64 holds 19.
  EXPECT_LT(CompareVersions("20210311102338000015", "20210311102338000016"), 0);
  EXPECT_GT(CompareVersions("99999999999999999999999999999999999999991",
                            "99999999999999999999999999999999999999990"),
            0);
  EXPECT_LT(CompareVersions("9999999999999999999999", "10000000000000000000000"), 0);
  EXPECT_LT(CompareVersions("20190226002946", "202603082026300000"), 0);
  EXPECT_EQ(CompareVersions("00000000000000000000000000042", "42"), 0);
}

TEST(MigrationTest, FindUsesVersionOrder) {
  MigrationSet set;
  for (const char* v : {"1", "2", "10", "20240101000000"}) {
    Migration m;
    m.version = v;
    set.migrations.push_back(m);
  }
  ASSERT_NE(set.Find("10"), nullptr);
  EXPECT_EQ(set.Find("10")->version, "10");
  ASSERT_NE(set.Find("0002"), nullptr);
  EXPECT_EQ(set.Find("0002")->version, "2");
  EXPECT_EQ(set.Find("3"), nullptr);
  EXPECT_EQ(set.Find("99999999999999999999"), nullptr);
  EXPECT_EQ(MigrationSet().Find("1"), nullptr);
}

}  // namespace
}  // namespace tandem::migrate
