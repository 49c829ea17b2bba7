#include "sql/parser.h"

#include <gtest/gtest.h>

#include <algorithm>

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

// A text of many pieces (pieces are about 256 KB): every statement shape the lexer must get
// right, repeated so that each of them falls on a piece boundary somewhere.
std::string ManyPieces(int repeats, std::vector<std::string>& expected) {
  const std::vector<std::pair<std::string, std::string>> shapes = {
      {"INSERT INTO t VALUES (1, 'a;b', E'c\\';d', $$e;f$$, $x$g;$$;h$x$);\n",
       "INSERT INTO t VALUES (1, 'a;b', E'c\\';d', $$e;f$$, $x$g;$$;h$x$)"},
      {"-- a comment; with a semicolon\nSELECT \"odd;name\" FROM t;\n",
       "SELECT \"odd;name\" FROM t"},
      {"/* outer /* nested; */ still; */ SELECT 2;\n", "SELECT 2"},
      {"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;\n",
       "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END"},
      {"SELECT 'it''s; fine', U&'d\\0061t;a', x'1F';\n",
       "SELECT 'it''s; fine', U&'d\\0061t;a', x'1F'"},
      {"SELECT 'back\\' -- ; a comment: the backslash ended the string\n;\n",
       "SELECT 'back\\' -- ; a comment: the backslash ended the string"},
      {"CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b);\n",
       "CREATE RULE r AS ON INSERT TO t DO ALSO (NOTIFY a; NOTIFY b)"},
  };
  std::string text;
  for (int i = 0; i < repeats; ++i) {
    for (const auto& [sql, statement] : shapes) {
      text += sql;
      expected.push_back(statement);
    }
  }
  return text;
}

TEST(SplitStatementsTest, PiecesGiveTheSameStatementsAsOneParse) {
  std::vector<std::string> expected;
  std::string text = ManyPieces(4000, expected);  // about 2 MB: several pieces
  ASSERT_GT(text.size(), 1'000'000u);
  auto r = SplitStatements(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), expected.size());
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_EQ((*r)[i].text, expected[i]) << "statement " << i;
    const SplitStatement& s = (*r)[i];
    ASSERT_EQ(text.compare(s.offset, s.text.size(), s.text), 0) << "statement " << i;
    while (true) {
      size_t nl = text.find('\n', line_start);
      if (nl == std::string::npos || nl >= s.offset) break;
      ++line;
      line_start = nl + 1;
    }
    ASSERT_EQ(s.start.line, line) << "statement " << i;
    ASSERT_EQ(s.start.column, static_cast<int>(s.offset - line_start) + 1) << "statement " << i;
  }
  // The JSON pieces cover the same statements.
  size_t statements = 0;
  Status s =
      ParseToJsonInPieces(text, [&](size_t offset, std::string_view piece, std::string& json) {
        EXPECT_EQ(text.compare(offset, piece.size(), piece), 0);
        for (size_t at = json.find("\"stmt\":"); at != std::string::npos;
             at = json.find("\"stmt\":", at + 1)) {
          ++statements;
        }
        return Status::Ok();
      });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(statements, expected.size());
}

TEST(SplitStatementsTest, SyntaxErrorDeepInALargeTextHasItsLine) {
  std::vector<std::string> expected;
  std::string text = ManyPieces(3000, expected);
  int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  text += "SELECT 1;\nCREATE TABLE (;\n";
  text += ManyPieces(10, expected);
  auto r = SplitStatements(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().location().line, lines + 2) << r.status().ToString();
  EXPECT_EQ(r.status().location().column, 14);
  // A statement cut short at the very end is an error too, not a silently shorter file.
  auto unterminated = SplitStatements(ManyPieces(3000, expected) + "SELECT 'never closed;\n");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_NE(unterminated.status().message().find("unterminated"), std::string::npos)
      << unterminated.status().ToString();
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
