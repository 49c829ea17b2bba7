#include "sql/parser.h"

#include <gtest/gtest.h>

namespace tandem::sql {
namespace {

TEST(SplitStatementsTest, KeepsPositionsAndSkipsComments) {
  std::string sql =
      "-- a comment; with a semicolon\n"
      "CREATE TABLE a (id int);\n"
      "\n"
      "  /* block; */ INSERT INTO a VALUES (1);";
  auto r = SplitStatements(sql);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].text, "CREATE TABLE a (id int)");
  EXPECT_EQ((*r)[0].start.line, 2);
  EXPECT_EQ((*r)[0].start.column, 1);
  EXPECT_EQ((*r)[1].text, "INSERT INTO a VALUES (1)");
  EXPECT_EQ((*r)[1].start.line, 4);
  EXPECT_EQ((*r)[1].start.column, 16);
}

TEST(SplitStatementsTest, DollarQuotingStringsAndBeginAtomic) {
  std::string sql =
      "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;\n"
      "SELECT 'a;b', E'c\\';d';\n"
      "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n";
  auto r = SplitStatements(sql);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_NE((*r)[0].text.find("RETURN 1; END; $$"), std::string::npos);
  EXPECT_EQ((*r)[2].start.line, 3);
  EXPECT_NE((*r)[2].text.find("SELECT 2; END"), std::string::npos);
}

TEST(SplitStatementsTest, SyntaxErrorHasLineAndColumn) {
  auto r = SplitStatements("SELECT 1;\nCREATE TABLE (;\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(r.status().location().line, 2);
  EXPECT_EQ(r.status().location().column, 14);
  EXPECT_NE(r.status().message().find("syntax error"), std::string::npos);
}

TEST(SplitStatementsTest, OnlyCommentsIsNoStatements) {
  auto r = SplitStatements("-- nothing here\n/* really */\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(ClassifyTransactionControlTest, RecognisesTransactionStatements) {
  EXPECT_EQ(ClassifyTransactionControl("begin"), TransactionControl::kBegin);
  EXPECT_EQ(ClassifyTransactionControl("START TRANSACTION"), TransactionControl::kBegin);
  EXPECT_EQ(ClassifyTransactionControl("commit"), TransactionControl::kCommit);
  EXPECT_EQ(ClassifyTransactionControl("END"), TransactionControl::kCommit);
  EXPECT_EQ(ClassifyTransactionControl("ROLLBACK"), TransactionControl::kRollback);
  EXPECT_EQ(ClassifyTransactionControl("SAVEPOINT a"), TransactionControl::kOther);
  EXPECT_EQ(ClassifyTransactionControl("ROLLBACK TO SAVEPOINT a"), TransactionControl::kOther);
  EXPECT_EQ(ClassifyTransactionControl("CREATE TABLE t (x int)"), TransactionControl::kNone);
  EXPECT_EQ(ClassifyTransactionControl("START_X"), TransactionControl::kNone);
}

TEST(ParseToJsonTest, GivesTheParseTree) {
  auto r = ParseToJson("ALTER TABLE users ADD COLUMN a int");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->find("AlterTableStmt"), std::string::npos);
}

}  // namespace
TEST(ParserText, CommentsNestAndAnUnclosedOneStopsTheSkip) {
  std::string_view nested = "/* a /* b */ c */ SELECT 1";
  EXPECT_EQ(BlockCommentEnd(nested, 0), 17u);
  EXPECT_EQ(BlockCommentEnd("/* never closed", 0), std::string_view::npos);
  EXPECT_EQ(SkipBlankAndComments(nested, 0), 18u);
  EXPECT_EQ(SkipBlankAndComments("  -- note\n\t/* x */ ALTER", 0), 19u);
  EXPECT_EQ(SkipBlankAndComments("  /* open", 0), 2u);
}

}  // namespace tandem::sql
