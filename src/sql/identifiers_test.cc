#include "sql/identifiers.h"

#include <gtest/gtest.h>

namespace tandem::sql {
namespace {

const std::string k70(70, 'a');  // 70 bytes: PostgreSQL keeps 63

TEST(FindLongIdentifiers, FoldsUnquotedAndKeepsQuotedCase) {
  std::string sql = "CREATE TABLE T" + std::string(69, 'X') + " (\"" + std::string(64, 'Y') +
                    "\" int, short_name int);";
  auto found = FindLongIdentifiers(sql);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].written, "T" + std::string(69, 'X'));
  EXPECT_EQ(found[0].truncated, "t" + std::string(62, 'x'));
  EXPECT_EQ(found[0].offset, 13u);
  EXPECT_EQ(found[1].written, "\"" + std::string(64, 'Y') + "\"");
  EXPECT_EQ(found[1].truncated, std::string(63, 'Y'));
  EXPECT_EQ(sql.substr(found[1].offset, 1), "\"");
}

TEST(FindLongIdentifiers, ExactlyTheLimitIsKept) {
  EXPECT_TRUE(FindLongIdentifiers("CREATE TABLE " + std::string(63, 'a') + " (id int)").empty());
  EXPECT_EQ(FindLongIdentifiers("CREATE TABLE " + std::string(64, 'a') + " (id int)").size(), 1u);
}

TEST(FindLongIdentifiers, SkipsStringsCommentsAndDollarBodies) {
  std::string sql = "SELECT '" + k70 + "', E'\\'" + k70 + "', $$" + k70 + "$$, $f$ " + k70 +
                    " $f$ -- " + k70 + "\n/* /* " + k70 + " */ " + k70 + " */";
  EXPECT_TRUE(FindLongIdentifiers(sql).empty()) << sql;
}

TEST(FindLongIdentifiers, CutsUtf8AtACharacterBoundary) {
  std::string name;
  for (int i = 0; i < 32; ++i) name += "\xC3\x84";  // Ä, 2 bytes each: 64 bytes
  auto found = FindLongIdentifiers("CREATE TABLE \"" + name + "\" (x int)");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].truncated.size(), 62u);  // 63 would split the 32nd Ä
}

}  // namespace
}  // namespace tandem::sql
