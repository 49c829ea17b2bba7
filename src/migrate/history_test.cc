// ComputeStatus is pure logic: files joined with history rows, no server needed.
#include "migrate/history.h"

#include <gtest/gtest.h>

namespace tandem::migrate {
namespace {

Migration File(const std::string& version, const std::string& checksum = "c") {
  Migration m;
  m.version = version;
  m.name = "m" + version;
  m.checksum = checksum;
  m.up_checksum = checksum;
  return m;
}

HistoryRow Row(const std::string& version, const std::string& status,
               const std::string& checksum = "c") {
  HistoryRow r;
  r.version = version;
  r.name = "m" + version;
  r.status = status;
  r.checksum = checksum;
  r.phase = "pre-deploy";
  return r;
}

TEST(ComputeStatusTest, JoinsFilesAndHistory) {
  MigrationSet files;
  files.migrations = {File("1"), File("2", "edited"), File("3"), File("4"), File("10")};
  std::vector<HistoryRow> history = {Row("1", "succeeded"), Row("2", "succeeded"),
                                     Row("4", "failed"), Row("5", "succeeded")};
  auto entries = ComputeStatus(files, history);
  ASSERT_EQ(entries.size(), 6u);
  EXPECT_EQ(entries[0].version, "1");
  EXPECT_EQ(entries[0].state, MigrationState::kApplied);
  EXPECT_EQ(entries[1].state, MigrationState::kDrifted);
  EXPECT_EQ(entries[2].version, "3");
  EXPECT_EQ(entries[2].state, MigrationState::kPending);
  EXPECT_TRUE(entries[2].out_of_order);  // older than 5, the newest applied
  EXPECT_EQ(entries[3].state, MigrationState::kFailed);
  EXPECT_EQ(entries[4].version, "5");
  EXPECT_EQ(entries[4].state, MigrationState::kMissingFile);
  EXPECT_EQ(entries[5].version, "10");  // numeric order: 10 after 5
  EXPECT_EQ(entries[5].state, MigrationState::kPending);
  EXPECT_FALSE(entries[5].out_of_order);
}

TEST(ComputeStatusTest, InterruptedRunIsFailedAndRevertedIsPending) {
  MigrationSet files;
  files.migrations = {File("1"), File("2")};
  std::vector<HistoryRow> history = {Row("1", "running"), Row("2", "pending")};
  auto entries = ComputeStatus(files, history);
  EXPECT_EQ(entries[0].state, MigrationState::kFailed);
  EXPECT_EQ(entries[1].state, MigrationState::kPending);
}

TEST(ComputeStatusTest, RecordedPendingWithoutFileIsNotReported) {
  MigrationSet files;
  std::vector<HistoryRow> history = {Row("7", "pending")};
  EXPECT_TRUE(ComputeStatus(files, history).empty());
}

TEST(FormatEpochMillisTest, IsIsoUtc) {
  EXPECT_EQ(FormatEpochMillis(1700000000123LL), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatEpochMillis(0), "1970-01-01T00:00:00.000Z");
}

TEST(TextArrayTest, RoundTrips) {
  std::vector<std::string> items = {"ab", "cd"};
  EXPECT_EQ(ToTextArray(items), "{\"ab\",\"cd\"}");
  EXPECT_EQ(ParseTextArray("{ab,cd}"), items);
  EXPECT_TRUE(ParseTextArray("{}").empty());
}

// Drift is judged on the up part; rows recorded as one whole-file checksum still match.
TEST(ComputeStatusTest, RecordedChecksumForms) {
  Migration m;
  m.up_checksum = "u";
  m.down_checksum = "d";
  m.checksum = "u/d";
  m.legacy_checksum = "whole";
  auto match = MatchRecordedChecksum(m, "u/d");
  EXPECT_TRUE(match.up_unchanged);
  EXPECT_FALSE(match.down_changed);
  match = MatchRecordedChecksum(m, "u/old");
  EXPECT_TRUE(match.up_unchanged);
  EXPECT_TRUE(match.down_changed);
  match = MatchRecordedChecksum(m, "old/d");
  EXPECT_FALSE(match.up_unchanged);
  match = MatchRecordedChecksum(m, "u");  // recorded without a down part: one was added
  EXPECT_TRUE(match.up_unchanged);
  EXPECT_TRUE(match.down_changed);
  match = MatchRecordedChecksum(m, "whole");
  EXPECT_TRUE(match.up_unchanged);
  EXPECT_FALSE(match.down_changed);
  EXPECT_FALSE(MatchRecordedChecksum(m, "other").up_unchanged);
  EXPECT_TRUE(MatchRecordedChecksum(m, "").up_unchanged);  // adopted without a checksum
}

// Diesel compares versions as strings, the other layouts as numbers.
TEST(ComputeStatusTest, EachLayoutsOrder) {
  EXPECT_LT(CompareVersions("202512310000000000", "20260101000000", Layout::kDiesel), 0);
  EXPECT_GT(CompareVersions("202512310000000000", "20260101000000", Layout::kGolangMigrate), 0);
  EXPECT_NE(CompareVersions("007", "7", Layout::kDiesel), 0);
  EXPECT_EQ(CompareVersions("007", "7", Layout::kGoose), 0);
  EXPECT_LT(CompareVersions("1.2.9", "1.2.10", Layout::kFlyway), 0);
  MigrationSet files;
  files.layout = Layout::kDiesel;
  files.migrations = {File("20250101000000"), File("202512310000000000"), File("20260101000000")};
  std::vector<HistoryRow> history = {Row("20250101000000", "succeeded"),
                                     Row("202512310000000000", "succeeded")};
  auto entries = ComputeStatus(files, history);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1].state, MigrationState::kApplied);
  EXPECT_EQ(entries[2].state, MigrationState::kPending);
  EXPECT_FALSE(entries[2].out_of_order);
  EXPECT_NE(files.Find("202512310000000000"), nullptr);
}

}  // namespace
}  // namespace tandem::migrate
