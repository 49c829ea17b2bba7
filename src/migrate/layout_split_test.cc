// SplitSections: statement positions in the file, allows attached to statements, BEGIN/COMMIT
// wrappers, and syntax errors mapped back to the file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "migrate/layout_test_util.h"
#include "migrate/layouts.h"

namespace tandem::migrate {
namespace {

using ::testing::StartsWith;

using LayoutSplitTest = LayoutFixture;

TEST_F(LayoutSplitTest, StatementPositionsAreFileRelative) {
  Write("1_a.sql",
        "-- tandem:lock-timeout 1s\n"           // 1
        "-- migrate:up\n"                       // 2
        "CREATE TABLE a (id int);\n"            // 3
        "\n"                                    // 4
        "  -- a comment; with a semicolon\n"    // 5
        "  INSERT INTO a VALUES (1); SELECT\n"  // 6
        "  2;\n"                                // 7
        "-- migrate:down\n"                     // 8
        "\n"                                    // 9
        "    DROP TABLE a;\n");                 // 10
  Migration m = Split();
  ASSERT_EQ(m.up.statements.size(), 3u);
  EXPECT_EQ(m.up.statements[0].sql, "CREATE TABLE a (id int)");
  EXPECT_EQ(Shorten(m.up.statements[0].location.ToString()), "D/1_a.sql:3:1");
  EXPECT_EQ(m.up.statements[1].sql, "INSERT INTO a VALUES (1)");
  EXPECT_EQ(Shorten(m.up.statements[1].location.ToString()), "D/1_a.sql:6:3");
  EXPECT_EQ(m.up.statements[2].sql, "SELECT\n  2");
  EXPECT_EQ(Shorten(m.up.statements[2].location.ToString()), "D/1_a.sql:6:29");
  ASSERT_EQ(m.down.statements.size(), 1u);
  EXPECT_EQ(Shorten(m.down.statements[0].location.ToString()), "D/1_a.sql:10:5");
  EXPECT_TRUE(m.up.split);
  EXPECT_TRUE(m.down.split);

  // Idempotent.
  ASSERT_TRUE(SplitSections(m).ok());
  EXPECT_EQ(m.up.statements.size(), 3u);
}

TEST_F(LayoutSplitTest, SyntaxErrorHasFileLineAndColumn) {
  Write("1_a.sql",
        "-- migrate:up\n"
        "CREATE TABLE a (id int);\n"
        "ALTER TABLE a ADD COLUMN;\n");
  std::string error = SplitError();
  EXPECT_EQ(error.substr(0, 37), "D/1_a.sql:3:25: error: syntax error: ") << error;
  EXPECT_NE(error.find("SQLSTATE 42601"), std::string::npos) << error;
}

TEST_F(LayoutSplitTest, SyntaxErrorInTheDownSection) {
  Write("1_a.sql", "-- migrate:up\nSELECT 1;\n-- migrate:down\n\nDROP TABLE;\n");
  EXPECT_THAT(SplitError(), StartsWith("D/1_a.sql:5:11: error: syntax error"));
  // Applying splits only the up section: the broken down section does not stop it.
  MigrationSet set = MustLoad();
  EXPECT_TRUE(SplitSections(set.migrations.front()).ok());
  EXPECT_TRUE(set.migrations.front().up.split);
  EXPECT_FALSE(set.migrations.front().down.split);
}

TEST_F(LayoutSplitTest, AllowsAttachToTheStatementBelow) {
  Write("1_a.sql",
        "-- tandem:allow file-rule \"header\"\n"                  // 1
        "-- migrate:up\n"                                         // 2
        "-- tandem:allow rename-column \"renamed in the ORM\"\n"  // 3
        "-- tandem:allow other-rule \"stacked\"\n"                // 4
        "ALTER TABLE t RENAME COLUMN a TO b;\n"                   // 5
        "\n"                                                      // 6
        "-- tandem:allow not-above-sql \"blank line below\"\n"    // 7
        "\n"                                                      // 8
        "ALTER TABLE t DROP COLUMN c;\n"                          // 9
        "SELECT 1,\n"                                             // 10
        "-- tandem:allow mid-statement \"inside a statement\"\n"  // 11
        "  2;\n"                                                  // 12
        "-- migrate:down\n"                                       // 13
        "-- tandem:allow drop-column \"down\"\n"                  // 14
        "ALTER TABLE t RENAME COLUMN b TO a;\n");                 // 15
  Migration m = Split();
  ASSERT_EQ(m.up.statements.size(), 3u);
  ASSERT_EQ(m.up.statements[0].allows.size(), 2u);
  EXPECT_EQ(m.up.statements[0].allows[0].rule, "rename-column");
  EXPECT_EQ(m.up.statements[0].allows[0].reason, "renamed in the ORM");
  EXPECT_EQ(Shorten(m.up.statements[0].allows[0].location.ToString()), "D/1_a.sql:3:4");
  EXPECT_EQ(m.up.statements[0].allows[1].rule, "other-rule");
  EXPECT_TRUE(m.up.statements[1].allows.empty());
  EXPECT_TRUE(m.up.statements[2].allows.empty());
  ASSERT_EQ(m.down.statements.size(), 1u);
  ASSERT_EQ(m.down.statements[0].allows.size(), 1u);
  EXPECT_EQ(m.down.statements[0].allows[0].rule, "drop-column");
  std::vector<std::string> file_rules;
  for (const Allow& a : m.file_allows) file_rules.push_back(a.rule);
  EXPECT_EQ(file_rules, (std::vector<std::string>{"file-rule", "not-above-sql", "mid-statement"}));
  EXPECT_TRUE(m.up.statement_allows.empty());
}

TEST_F(LayoutSplitTest, BeginCommitWrapperIsDropped) {
  Write("1_a.up.sql",
        "BEGIN;\n"
        "CREATE TABLE a (id int);\n"
        "CREATE TABLE b (id int);\n"
        "COMMIT;\n");
  Write("1_a.down.sql", "START TRANSACTION;\nDROP TABLE b;\nDROP TABLE a;\nEND;\n");
  Migration m = Split();
  ASSERT_EQ(m.up.statements.size(), 2u);
  EXPECT_EQ(m.up.statements[0].sql, "CREATE TABLE a (id int)");
  EXPECT_EQ(m.up.statements[0].location.line, 2);
  EXPECT_EQ(m.up.statements[1].sql, "CREATE TABLE b (id int)");
  ASSERT_EQ(m.down.statements.size(), 2u);
  EXPECT_EQ(m.down.statements[0].sql, "DROP TABLE b");
}

TEST_F(LayoutSplitTest, OtherTransactionControlIsRefused) {
  const std::string hint =
      "HINT: remove it: tandem runs each migration in one transaction; use \"-- "
      "tandem:transaction off\" to run statements one by one";
  Write("1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);\n");
  EXPECT_EQ(SplitError(),
            "D/1_a.sql:3:1: error: transaction control statement \"COMMIT\" is not allowed in a "
            "migration\n" +
                hint);
  Write("1_a.sql", "-- migrate:up\nBEGIN;\nCREATE TABLE a (id int);\n");  // never committed
  EXPECT_THAT(
      SplitError(),
      StartsWith("D/1_a.sql:2:1: error: transaction control statement \"BEGIN\" is not allowed"));
  Write("1_a.sql", "-- migrate:up\nBEGIN;\nSAVEPOINT s;\nSELECT 1;\nCOMMIT;\n");
  EXPECT_THAT(SplitError(),
              StartsWith("D/1_a.sql:3:1: error: transaction control statement \"SAVEPOIN"));
  Write("1_a.sql", "-- migrate:up\nSELECT 1;\n  rollback;\n");
  EXPECT_THAT(SplitError(),
              StartsWith("D/1_a.sql:3:3: error: transaction control statement \"rollback\""));
}

TEST_F(LayoutSplitTest, FunctionBodiesAreNotTransactionControl) {
  Write("1_a.sql",
        "-- migrate:up\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  RETURN 1;\n"
        "END;\n"
        "$$;\n"
        "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n");
  Migration m = Split();
  ASSERT_EQ(m.up.statements.size(), 2u);
  EXPECT_EQ(m.up.statements[1].location.line, 7);
}

TEST_F(LayoutSplitTest, EmptySectionsSplitToNothing) {
  Write("1_a.sql", "-- migrate:up\n\n-- migrate:down\n");
  Migration m = Split();
  EXPECT_TRUE(m.up.statements.empty());
  EXPECT_TRUE(m.down.present);
  EXPECT_TRUE(m.down.statements.empty());
}

}  // namespace
}  // namespace tandem::migrate
