#include "migrate/new_migration.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "migrate/layouts.h"
#include "testing/harness.h"

namespace tandem::migrate {
namespace {

using namespace std::chrono_literals;

// 2024-03-05 06:07:08 UTC.
const std::chrono::system_clock::time_point kNow =
    std::chrono::sys_days{std::chrono::year{2024} / 3 / 5} + 6h + 7min + 8s + 900ms;

class NewMigrationTest : public ::testing::Test {
 protected:
  std::string Dir() const { return dir_.path().string(); }
  std::string Relative(const std::string& path) const {
    return path.substr(0, Dir().size()) == Dir() ? path.substr(Dir().size() + 1) : path;
  }
  tandem::testing::TempDir dir_;
};

TEST_F(NewMigrationTest, SanitizesNames) {
  EXPECT_EQ(SanitizeMigrationName("add_email_to_users"), "add_email_to_users");
  EXPECT_EQ(SanitizeMigrationName("Add email to Users!"), "add_email_to_users");
  EXPECT_EQ(SanitizeMigrationName("AddEmailToUsers"), "add_email_to_users");
  EXPECT_EQ(SanitizeMigrationName("HTTPServerLogs"), "http_server_logs");
  EXPECT_EQ(SanitizeMigrationName("  --drop  legacy--  "), "drop_legacy");
  EXPECT_EQ(SanitizeMigrationName("v2-schema"), "v2_schema");
  EXPECT_EQ(SanitizeMigrationName("café"), "caf");
  EXPECT_EQ(SanitizeMigrationName("!!!"), "");
}

TEST_F(NewMigrationTest, TandemTemplate) {
  auto path = WriteNewMigration(Dir(), Layout::kTandem, "Add email", Phase::kPreDeploy, kNow);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(Relative(*path), "20240305060708_add_email.sql");
  EXPECT_EQ(dir_.Read("20240305060708_add_email.sql"), "-- migrate:up\n\n-- migrate:down\n");

  path = WriteNewMigration(Dir(), Layout::kTandem, "drop legacy", Phase::kPostDeploy, kNow + 1h);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(dir_.Read(Relative(*path)),
            "-- tandem:phase post-deploy\n-- migrate:up\n\n-- migrate:down\n");
}

TEST_F(NewMigrationTest, SameSecondBumpsTheVersion) {
  auto first = WriteNewMigration(Dir(), Layout::kTandem, "a", Phase::kPreDeploy, kNow);
  auto second = WriteNewMigration(Dir(), Layout::kTandem, "b", Phase::kPreDeploy, kNow);
  auto third = WriteNewMigration(Dir(), Layout::kTandem, "a", Phase::kPreDeploy, kNow);
  ASSERT_TRUE(first.ok() && second.ok() && third.ok());
  EXPECT_EQ(Relative(*first), "20240305060708_a.sql");
  EXPECT_EQ(Relative(*second), "20240305060709_b.sql");
  EXPECT_EQ(Relative(*third), "20240305060710_a.sql");
  auto set = LoadMigrations(Dir());
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->migrations.size(), 3u);
}

TEST_F(NewMigrationTest, EveryLayoutWritesFilesItsLoaderReads) {
  struct Case {
    Layout layout;
    std::vector<std::string> files;  // main file first
  };
  const Case cases[] = {
      {Layout::kTandem, {"20240305060708_add_email.sql"}},
      {Layout::kGoose, {"20240305060708_add_email.sql"}},
      {Layout::kGolangMigrate,
       {"20240305060708_add_email.up.sql", "20240305060708_add_email.down.sql"}},
      {Layout::kDiesel,
       {"2024-03-05-060708_add_email/up.sql", "2024-03-05-060708_add_email/down.sql"}},
      {Layout::kFlyway, {"V20240305060708__add_email.sql"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(LayoutName(c.layout)));
    tandem::testing::TempDir dir;
    auto path =
        WriteNewMigration(dir.path().string(), c.layout, "add email", Phase::kBackground, kNow);
    ASSERT_TRUE(path.ok()) << path.status().ToString();
    EXPECT_EQ(*path, dir.path().string() + "/" + c.files.front());
    for (const std::string& f : c.files) EXPECT_TRUE(std::filesystem::exists(dir.path() / f)) << f;
    EXPECT_EQ(dir.Read(c.files.front()).rfind("-- tandem:phase background\n", 0), 0u);
    auto set = LoadMigrations(dir.path().string());
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    EXPECT_EQ(set->layout, c.layout);
    ASSERT_EQ(set->migrations.size(), 1u);
    EXPECT_EQ(set->migrations[0].version, "20240305060708");
    EXPECT_EQ(set->migrations[0].name, "add_email");
    EXPECT_EQ(set->migrations[0].phase, Phase::kBackground);
    EXPECT_TRUE(SplitSections(set->migrations[0]).ok());
  }
}

TEST_F(NewMigrationTest, NativeTemplates) {
  tandem::testing::TempDir goose, diesel;
  ASSERT_TRUE(
      WriteNewMigration(goose.path().string(), Layout::kGoose, "x", Phase::kPreDeploy, kNow).ok());
  EXPECT_EQ(goose.Read("20240305060708_x.sql"), "-- +goose Up\n\n-- +goose Down\n");
  ASSERT_TRUE(
      WriteNewMigration(diesel.path().string(), Layout::kDiesel, "x", Phase::kPreDeploy, kNow)
          .ok());
  EXPECT_EQ(diesel.Read("2024-03-05-060708_x/up.sql"), "-- Your SQL goes here\n");
  EXPECT_EQ(diesel.Read("2024-03-05-060708_x/down.sql"),
            "-- This file should undo anything in `up.sql`\n");
}

TEST_F(NewMigrationTest, BumpsPastVersionsOfAnyLayout) {
  dir_.Write("V20240305060708__other.sql", "");
  auto path = WriteNewMigration(Dir(), Layout::kFlyway, "x", Phase::kPreDeploy, kNow);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(Relative(*path), "V20240305060709__x.sql");
}

// In an existing directory the version takes the shape of its newest one and sorts last in the
// layout's order: 18-digit Diesel versions (compared as strings), or the next number of a
// directory numbered in sequence.
TEST_F(NewMigrationTest, FollowsTheDirectorysOwnFormat) {
  tandem::testing::TempDir diesel, seq, flyway;
  diesel.Write("2023-01-01-000000_a/up.sql", "SELECT 1;\n");
  diesel.Write("2023-06-01-000000-0000_b/up.sql", "SELECT 1;\n");
  auto path =
      WriteNewMigration(diesel.path().string(), Layout::kDiesel, "c", Phase::kPreDeploy, kNow);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(*path, diesel.path().string() + "/2024-03-05-060708-9000_c/up.sql");
  auto set = LoadMigrations(diesel.path().string());
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->migrations.back().version, "202403050607089000");

  // A version ahead of the clock: the next number after it.
  diesel.Write("2030-01-01-000000-0000_future/up.sql", "SELECT 1;\n");
  path = WriteNewMigration(diesel.path().string(), Layout::kDiesel, "d", Phase::kPreDeploy, kNow);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, diesel.path().string() + "/2030-01-01-000000-0001_d/up.sql");

  seq.Write("000001_a.up.sql", "");
  seq.Write("000009_b.up.sql", "");
  path =
      WriteNewMigration(seq.path().string(), Layout::kGolangMigrate, "c", Phase::kPreDeploy, kNow);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, seq.path().string() + "/000010_c.up.sql");

  flyway.Write("V1.2__a.sql", "");
  path = WriteNewMigration(flyway.path().string(), Layout::kFlyway, "b", Phase::kPreDeploy, kNow);
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(*path, flyway.path().string() + "/V1.3__b.sql");
}

TEST_F(NewMigrationTest, Errors) {
  auto r = WriteNewMigration(Dir(), Layout::kTandem, "", Phase::kPreDeploy, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().ToString(),
            "error: migration name is empty\n"
            "HINT: name what the migration does, e.g. tandem new add_email_to_users");
  r = WriteNewMigration(Dir(), Layout::kTandem, "???", Phase::kPreDeploy, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "migration name \"???\" has no letters or digits");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  r = WriteNewMigration(Dir() + "/missing", Layout::kTandem, "x", Phase::kPreDeploy, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "migrations directory \"" + Dir() + "/missing\" does not exist");
  EXPECT_EQ(r.status().hint(), "run \"tandem init\" or pass --dir");
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
}

}  // namespace
}  // namespace tandem::migrate
