// The lexical scan for inline COPY rows and psql meta-commands.
#include "migrate/inline_data.h"

#include <gtest/gtest.h>

namespace tandem::migrate {
namespace {

TEST(InlineDataTest, FindsCopyRowsUpToTheirTerminator) {
  std::string text =
      "CREATE TABLE s (a int, b text);\n"
      "copy s (a, b) FROM STDIN; -- seed\n"
      "1\t\\N\n"
      "2\tx; y\n"
      "\\.\n"
      "SELECT 1;\n";
  auto found = FindInlineData(text);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  const InlineData& d = (*found)[0];
  EXPECT_EQ(d.copy_line, 2);
  EXPECT_EQ(text.substr(d.data_begin, d.data_end - d.data_begin), "1\t\\N\n2\tx; y\n");
  EXPECT_EQ(text.substr(d.resume), "SELECT 1;\n");
  EXPECT_EQ(text.substr(0, d.sql_end).back(), '\n');
}

TEST(InlineDataTest, QuotesCommentsAndOtherCopiesAreNotRows) {
  auto found = FindInlineData(
      "SELECT 'C:\\dir', E'it\\'s \\\\', $$ \\set $$, $q$ ; $q$, \"a\\b\";\n"
      "-- \\i file.sql\n/* \\set /* nested */ x */\n"
      "COPY s FROM '/tmp/f'; COPY s TO STDOUT; COPY (SELECT 1 FROM stdin_t) TO stdout;\n"
      "SELECT $1;\n");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_TRUE(found->empty());
}

TEST(InlineDataTest, MetaCommandsAreRefusedWithTheirPlace) {
  auto found = FindInlineData("SELECT 1;\n  \\connect other\n");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().ToString(),
            "error: psql meta-command \"\\connect\" is not SQL: tandem runs SQL only\n"
            "HINT: remove it, or write what it does in SQL (set configuration with SET, include "
            "files as migrations of their own)");
  EXPECT_EQ(found.status().location().line, 2);
  EXPECT_EQ(found.status().location().column, 3);
  found = FindInlineData("SELECT 1 \\gset\n");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().location().column, 10);
  found = FindInlineData("COPY s FROM stdin;\n1\n");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().message(), "COPY ... FROM STDIN without a \\. line after its rows");
  found = FindInlineData("COPY s FROM stdin; SELECT 1;\n1\n\\.\n");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.status().location().column, 20);
}

TEST(InlineDataTest, BlankingKeepsPositions) {
  std::string text = "COPY s FROM stdin;\n1\tx\n\\.\nSELECT 1;\n";
  std::string blank = BlankInlineData(text);
  EXPECT_EQ(blank, "COPY s FROM stdin;\n   \n  \nSELECT 1;\n");
  EXPECT_EQ(BlankInlineData("SELECT 1;"), "SELECT 1;");
}

}  // namespace
}  // namespace tandem::migrate
