#include "base/printable.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(PrintableTest, EscapesControlCharactersAndLeavesTheRest) {
  EXPECT_EQ(Printable("20240101_plain.sql"), "20240101_plain.sql");
  EXPECT_EQ(Printable("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(Printable("bell\x07 esc\x1b[31m del\x7f"), "bell\\x07 esc\\x1B[31m del\\x7F");
  EXPECT_EQ(Printable("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");  // é €
  EXPECT_EQ(Printable("c1 \xc2\x9b"), "c1 \\xC2\\x9B");                          // CSI
  EXPECT_EQ(Printable("bad \xff\xc3"), "bad \\xFF\\xC3");
  EXPECT_EQ(Printable("back\\slash"), "back\\slash");
  EXPECT_FALSE(NeedsPrintable("caf\xc3\xa9"));
  EXPECT_TRUE(NeedsPrintable("x\n"));
}

TEST(PrintableTest, LinesKeepTheirBreaks) {
  EXPECT_EQ(PrintableLines("one\ntwo\x1b"), "one\ntwo\\x1B");
  EXPECT_EQ(PrintableLines("plain\ntext"), "plain\ntext");
}

TEST(PrintableTest, FindsTheFirstInvalidUtf8Byte) {
  EXPECT_EQ(FindInvalidUtf8("plain ascii"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80"), std::string_view::npos);
  EXPECT_EQ(FindInvalidUtf8("ab\xff"), 2u);
  EXPECT_EQ(FindInvalidUtf8("ab\xc3"), 2u);             // truncated
  EXPECT_EQ(FindInvalidUtf8("a\xc0\xaf"), 1u);          // overlong '/'
  EXPECT_EQ(FindInvalidUtf8("a\xed\xa0\x80"), 1u);      // surrogate
  EXPECT_EQ(FindInvalidUtf8("a\xf4\x90\x80\x80"), 1u);  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("caf\xe9 latin-1"), 3u);
}

}  // namespace
}  // namespace tandem
