// Loading tandem/dbmate files, and what every layout shares: order, duplicates, checksums,
// ignored files and a missing directory.
#include "migrate/layouts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "base/sha256.h"
#include "migrate/layout_test_util.h"

namespace tandem::migrate {
namespace {

using ::testing::StartsWith;

using LayoutsTest = LayoutFixture;

TEST_F(LayoutsTest, LoadsATandemFile) {
  const std::string text =
      "-- tandem:phase post-deploy\n"
      "-- tandem:lock-timeout 500ms\n"
      "-- tandem:statement-timeout 15min\n"
      "-- tandem:allow drop-column \"the app stopped reading it in v42\"\n"
      "\n"
      "-- migrate:up\n"
      "ALTER TABLE users DROP COLUMN legacy;\n"
      "\n"
      "-- migrate:down\n"
      "ALTER TABLE users ADD COLUMN legacy text;\n";
  Write("20240101120000_drop_legacy.sql", text);
  MigrationSet set = MustLoad();
  EXPECT_EQ(set.layout, Layout::kTandem);
  EXPECT_EQ(set.directory, Dir());
  ASSERT_EQ(set.migrations.size(), 1u);
  const Migration& m = set.migrations[0];
  EXPECT_EQ(m.version, "20240101120000");
  EXPECT_EQ(m.name, "drop_legacy");
  EXPECT_EQ(m.paths, std::vector<std::string>{Path("20240101120000_drop_legacy.sql")});
  EXPECT_EQ(m.phase, Phase::kPostDeploy);
  EXPECT_TRUE(m.transactional);
  EXPECT_EQ(m.lock_timeout, Duration(500));
  EXPECT_EQ(m.statement_timeout, Duration(15 * 60'000));
  ASSERT_EQ(m.file_allows.size(), 1u);
  EXPECT_EQ(m.file_allows[0].rule, "drop-column");
  EXPECT_EQ(m.file_allows[0].reason, "the app stopped reading it in v42");
  EXPECT_EQ(Shorten(m.file_allows[0].location.ToString()), "D/20240101120000_drop_legacy.sql:4:4");
  size_t down = text.find("-- migrate:down");
  EXPECT_EQ(m.checksum, Sha256Hex(text.substr(0, down)) + "/" + Sha256Hex(text.substr(down)));
  EXPECT_EQ(m.legacy_checksum, Sha256Hex(text));

  EXPECT_TRUE(m.up.present);
  EXPECT_EQ(m.up.path, m.paths[0]);
  EXPECT_EQ(m.up.location.line, 6);
  EXPECT_EQ(m.up.text, "ALTER TABLE users DROP COLUMN legacy;\n\n");
  EXPECT_EQ(m.up.text_line, 7);
  EXPECT_EQ(m.up.text_offset, text.find("ALTER TABLE users DROP"));
  EXPECT_FALSE(m.up.split);
  EXPECT_TRUE(m.up.statements.empty());  // loading never parses SQL
  EXPECT_TRUE(m.down.present);
  EXPECT_EQ(m.down.location.line, 9);
  EXPECT_EQ(m.down.text, "ALTER TABLE users ADD COLUMN legacy text;\n");
  EXPECT_EQ(m.down.text_line, 10);
}

TEST_F(LayoutsTest, UpOnlyFileAndDefaults) {
  Write("1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);");
  MigrationSet set = MustLoad();
  ASSERT_EQ(set.migrations.size(), 1u);
  const Migration& m = set.migrations[0];
  EXPECT_EQ(m.phase, Phase::kPreDeploy);
  EXPECT_TRUE(m.transactional);
  EXPECT_FALSE(m.lock_timeout.has_value());
  EXPECT_FALSE(m.down.present);
  EXPECT_EQ(m.up.text, "CREATE TABLE a (id int);");
}

TEST_F(LayoutsTest, DbmateTransactionFalseOnEitherMarker) {
  Write("1_a.sql", "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n");
  Write("2_b.sql",
        "-- migrate:up\nCREATE TABLE b (id int);\n"
        "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY i;\n");
  Write("3_c.sql", "--migrate:up\nCREATE TABLE c (id int);\n");  // dbmate's \s* allows no blank
  MigrationSet set = MustLoad();
  ASSERT_EQ(set.migrations.size(), 3u);
  EXPECT_FALSE(set.migrations[0].transactional);
  EXPECT_FALSE(set.migrations[1].transactional);
  EXPECT_TRUE(set.migrations[2].transactional);
}

TEST_F(LayoutsTest, DbmateMarkerWithUnknownOption) {
  Write("1_a.sql", "-- migrate:up transaction:off\nSELECT 1;\n");
  EXPECT_EQ(LoadError(),
            "D/1_a.sql:1:15: error: unknown migrate marker option \"transaction:off\"\n"
            "HINT: the only option is transaction:false (or transaction:true)");
}

TEST_F(LayoutsTest, MarkersMustBeExact) {
  // "-- migrate:upgrade" and an indented marker are comments, as for dbmate.
  Write("1_a.sql", "-- migrate:upgrade\n  -- migrate:up\nSELECT 1;\n");
  EXPECT_EQ(LoadError(),
            "D/1_a.sql: error: file has no up section\n"
            "HINT: start the migration's SQL with a \"-- migrate:up\" line");
}

TEST_F(LayoutsTest, FileWithoutUpSection) {
  Write("1_a.sql", "CREATE TABLE a (id int);\n");
  EXPECT_EQ(LoadError(),
            "D/1_a.sql: error: file has no up section\n"
            "HINT: start the migration's SQL with a \"-- migrate:up\" line");
}

TEST_F(LayoutsTest, TwoUpSectionsAreRefused) {
  Write("1_a.sql",
        "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n"
        "-- migrate:up\nCREATE TABLE b (id int);\n");
  EXPECT_EQ(LoadError(),
            "D/1_a.sql:5:1: error: more than one \"-- migrate:up\" section\n"
            "DETAIL: the first starts on line 1\n"
            "HINT: merge the sections, or split the file into two migrations (tandem refuses what "
            "dbmate would apply only partly)");
}

TEST_F(LayoutsTest, TwoDownSectionsAreRefused) {
  Write("1_a.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n-- migrate:down\n");
  EXPECT_THAT(LoadError(),
              StartsWith("D/1_a.sql:5:1: error: more than one \"-- migrate:down\" section\n"));
}

TEST_F(LayoutsTest, DownBeforeUpIsRefused) {
  Write("1_a.sql", "-- migrate:down\nDROP TABLE a;\n-- migrate:up\nCREATE TABLE a (id int);\n");
  EXPECT_EQ(LoadError(),
            "D/1_a.sql:1:1: error: down section before the up section\n"
            "HINT: put the \"-- migrate:down\" section after the \"-- migrate:up\" section");
}

TEST_F(LayoutsTest, SqlBeforeTheUpSectionIsRefused) {
  Write("1_a.sql",
        "-- header comment\n/* a block\n comment */\n  DROP TABLE a;\n-- migrate:up\nSELECT 1;\n");
  EXPECT_EQ(LoadError(),
            "D/1_a.sql:4:3: error: SQL before the up section\n"
            "HINT: move it below the \"-- migrate:up\" line, or comment it out");
}

TEST_F(LayoutsTest, UnknownDirectiveHasFileLineAndColumn) {
  Write("1_a.sql", "-- migrate:up\nSELECT 1;\n");
  Write("2_b.sql", "-- a comment\n-- tandem:phaze post-deploy\n-- migrate:up\nSELECT 1;\n");
  EXPECT_EQ(LoadError(),
            "D/2_b.sql:2:4: error: unknown directive \"tandem:phaze\"\n"
            "HINT: did you mean \"tandem:phase\"?");
}

TEST_F(LayoutsTest, BadDirectiveValueHasFileLineAndColumn) {
  Write("1_a.sql", "-- tandem:transaction maybe\n-- migrate:up\nSELECT 1;\n");
  EXPECT_EQ(LoadError(),
            "D/1_a.sql:1:23: error: invalid value \"maybe\" for \"tandem:transaction\"\n"
            "HINT: use on (the default) or off");
}

TEST_F(LayoutsTest, DirectivesAnywhereInTheFileCount) {
  Write("1_a.sql",
        "-- migrate:up\n-- tandem:transaction off\nCREATE INDEX CONCURRENTLY i ON t (a);\n");
  MigrationSet set = MustLoad();
  ASSERT_EQ(set.migrations.size(), 1u);
  EXPECT_FALSE(set.migrations[0].transactional);
}

TEST_F(LayoutsTest, DuplicateVersionsNameBothFiles) {
  Write("1_ok.sql", "-- migrate:up\nSELECT 1;\n");
  Write("001_again.sql", "-- migrate:up\nSELECT 2;\n");  // the same version, written differently
  EXPECT_EQ(LoadError(),
            "D/1_ok.sql: error: version 1 is used by two migrations: \"D/001_again.sql\" and "
            "\"D/1_ok.sql\"\n"
            "HINT: give one of them a new version (\"tandem new\" names files with a timestamp)");
}

TEST_F(LayoutsTest, SortedNumericallyNotByName) {
  for (const char* f : {"10_c.sql", "9_b.sql", "1_a.sql", "100000000000000000000001_e.sql",
                        "20240101000000_d.sql"}) {
    Write(f, "-- migrate:up\nSELECT 1;\n");
  }
  MigrationSet set = MustLoad();
  std::vector<std::string> versions;
  for (const auto& m : set.migrations) versions.push_back(m.version);
  EXPECT_EQ(versions, (std::vector<std::string>{"1", "9", "10", "20240101000000",
                                                "100000000000000000000001"}));
  EXPECT_NE(set.Find("10"), nullptr);
}

TEST_F(LayoutsTest, IgnoresFilesThatAreNotMigrations) {
  Write("1_a.sql", "-- migrate:up\nSELECT 1;\n");
  Write("README.md", "# migrations\n");
  Write(".keep", "");
  Write("schema.sql", "CREATE TABLE a (id int);\n");
  Write("notes/2_draft.sql", "not loaded: only Diesel directories are read\n");
  Write(".3_hidden.sql", "hidden files are skipped\n");
  MigrationSet set = MustLoad();
  ASSERT_EQ(set.migrations.size(), 1u);
  EXPECT_EQ(set.migrations[0].version, "1");
}

TEST_F(LayoutsTest, VersionLookingFileThatFitsNoLayoutIsRefused) {
  Write("1_a.sql", "-- migrate:up\nSELECT 1;\n");
  Write("2.sql", "SELECT 2;\n");
  EXPECT_EQ(LoadError(),
            "D/2.sql: error: file name does not fit the tandem layout\n"
            "HINT: name migrations <version>_<name>.sql with \"-- migrate:up\" and \"-- "
            "migrate:down\" sections, move other files out of the migrations directory, or pass "
            "--layout");
}

TEST_F(LayoutsTest, EmptyDirectoryIsAnEmptySet) {
  MigrationSet set = MustLoad();
  EXPECT_TRUE(set.migrations.empty());
  EXPECT_EQ(set.layout, Layout::kTandem);
  EXPECT_EQ(MustLoad(Layout::kGoose).layout, Layout::kGoose);
}

TEST_F(LayoutsTest, MissingDirectory) {
  auto set = LoadMigrations(Dir() + "/db/migrations");
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(Shorten(set.status().ToString()),
            "error: migrations directory \"D/db/migrations\" does not exist\n"
            "HINT: run \"tandem init\" or pass --dir");
  Write("file", "");
  set = LoadMigrations(Path("file"));
  ASSERT_FALSE(set.ok());
  EXPECT_EQ(Shorten(set.status().message()), "migrations directory \"D/file\" is not a directory");
}

TEST_F(LayoutsTest, ChecksumIsStableUnderCrlf) {
  const std::string lf = "-- migrate:up\nCREATE TABLE a (\n  id int\n);\n-- migrate:down\n";
  std::string crlf;
  for (char c : lf) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  Write("1_a.sql", lf);
  std::string lf_checksum = MustLoad().migrations.at(0).checksum;
  size_t down = lf.find("-- migrate:down");
  EXPECT_EQ(lf_checksum, Sha256Hex(lf.substr(0, down)) + "/" + Sha256Hex(lf.substr(down)));
  Write("1_a.sql", crlf);
  Migration m = Split();
  EXPECT_EQ(m.checksum, lf_checksum);
  ASSERT_EQ(m.up.statements.size(), 1u);
  EXPECT_EQ(m.up.statements[0].sql, "CREATE TABLE a (\n  id int\n)");  // no CR in the SQL
  EXPECT_EQ(m.up.statements[0].location.line, 2);
  EXPECT_TRUE(m.down.present);
  Write("1_a.sql", lf + "-- changed\n");
  EXPECT_NE(MustLoad().migrations.at(0).checksum, lf_checksum);
}

TEST_F(LayoutsTest, TenThousandFilesLoadQuickly) {
  // `tandem status` on 10,000 files has a budget of 200 ms in total; loading is most of it.
  for (int i = 1; i <= 10'000; ++i) {
    // Plain streams: TempDir::Write's create_directories per file would dominate the test.
    std::string n = std::to_string(i);
    std::ofstream(Path("2024" + std::to_string(100000000 + i) + "_m" + n + ".sql"))
        << "-- tandem:lock-timeout 1s\n-- migrate:up\nALTER TABLE t ADD COLUMN c" << n
        << " int;\n\n-- migrate:down\nALTER TABLE t DROP COLUMN c" << n << ";\n";
  }
  auto start = std::chrono::steady_clock::now();
  MigrationSet set = MustLoad();
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(set.migrations.size(), 10'000u);
  // Generous against slow CI machines; a regression to parsing SQL at load costs seconds.
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), 1000);
  std::cerr << "loaded 10,000 migrations in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";
}

}  // namespace
}  // namespace tandem::migrate
