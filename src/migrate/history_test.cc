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

}  // namespace
}  // namespace tandem::migrate
