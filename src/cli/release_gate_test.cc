// tandem release refuses pending pre-deploy migrations with lint errors (issue 4, item 7) and,
// with --verify, migrations that fail on a shadow database (issue 5, item 7).
#include <gtest/gtest.h>

#include "testing/harness.h"

namespace tandem::testing {
namespace {

class ReleaseGateTest : public PgTest {
 protected:
  ProcessOutput Release(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"release"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunTandem(args, dir_.path().string(), {"TANDEM_DATABASE_URL=" + url()});
  }
  TempDir dir_;
};

TEST_F(ReleaseGateTest, PreDeployDropColumnIsRefusedWithTheFindingAndNothingApplied) {
  ASSERT_TRUE(Connect()->Exec("CREATE TABLE users (id bigint PRIMARY KEY, legacy text)").ok());
  dir_.Write("db/migrations/1_add.sql", "-- migrate:up\nALTER TABLE users ADD COLUMN a text;\n");
  dir_.Write("db/migrations/2_drop.sql", "-- migrate:up\nALTER TABLE users DROP COLUMN legacy;\n");
  auto r = Release();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("drop-column"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2_drop.sql:2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("lint errors; nothing was applied"), std::string::npos) << r.err;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM information_schema.columns WHERE table_name = "
                       "'users'"),
            "2");
  EXPECT_EQ(QueryValue("SELECT to_regnamespace('tandem') IS NULL"), "t");
}

TEST_F(ReleaseGateTest, AllowedWithAReasonGoesThrough) {
  ASSERT_TRUE(Connect()->Exec("CREATE TABLE users (id bigint PRIMARY KEY, legacy text)").ok());
  dir_.Write("db/migrations/1_drop.sql",
             "-- tandem:allow drop-column \"the app stopped reading legacy in release 41\"\n"
             "-- migrate:up\nALTER TABLE users DROP COLUMN legacy;\n");
  auto r = Release();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM information_schema.columns WHERE table_name = "
                       "'users'"),
            "1");
}

// The allow on the line above the statement covers that statement only, in release's gate as
// in `tandem lint` (release splits the migration first, which moves the allow onto it).
TEST_F(ReleaseGateTest, AStatementLevelAllowGoesThroughTooButOnlyForItsStatement) {
  ASSERT_TRUE(
      Connect()->Exec("CREATE TABLE users (id bigint PRIMARY KEY, legacy text, old text)").ok());
  dir_.Write("db/migrations/1_drop.sql",
             "-- migrate:up\n"
             "-- tandem:allow drop-column \"the app stopped reading legacy in release 41\"\n"
             "ALTER TABLE users DROP COLUMN legacy;\n");
  auto r = Release();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM information_schema.columns WHERE table_name = "
                       "'users'"),
            "2");
  dir_.Write("db/migrations/2_drop.sql",
             "-- migrate:up\n"
             "-- tandem:allow drop-column \"only this one\"\n"
             "SELECT 1;\n"
             "ALTER TABLE users DROP COLUMN old;\n");
  r = Release();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("2_drop.sql:4:"), std::string::npos) << r.err;
}

TEST_F(ReleaseGateTest, PostDeployMigrationsAreNotGated) {
  ASSERT_TRUE(Connect()->Exec("CREATE TABLE users (id bigint PRIMARY KEY, legacy text)").ok());
  dir_.Write("db/migrations/1_drop.sql",
             "-- tandem:phase post-deploy\n-- migrate:up\nALTER TABLE users DROP COLUMN legacy;\n");
  auto r = Release();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(QueryValue("SELECT status FROM tandem.migrations WHERE version = '1'"), "pending");
}

TEST_F(ReleaseGateTest, VerifyRefusesAMigrationThatFailsOnTheShadow) {
  ASSERT_TRUE(Connect()->Exec("CREATE TABLE t (id int)").ok());
  dir_.Write("db/migrations/1_ok.sql", "-- migrate:up\nCREATE TABLE ok (id int);\n");
  dir_.Write("db/migrations/2_bad.sql",
             "-- migrate:up\nALTER TABLE t ADD COLUMN c int REFERENCES nosuch (id);\n");
  auto r = Release({"--verify"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("verify found errors on the shadow database; nothing was applied"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(QueryValue("SELECT to_regclass('ok') IS NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT to_regnamespace('tandem') IS NULL"), "t");
}

TEST_F(ReleaseGateTest, VerifyLetsAGoodReleaseThrough) {
  dir_.Write("db/migrations/1_ok.sql", "-- migrate:up\nCREATE TABLE ok (id int);\n");
  auto r = Release({"--verify"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(QueryValue("SELECT to_regclass('ok') IS NOT NULL"), "t");
}

}  // namespace
}  // namespace tandem::testing
