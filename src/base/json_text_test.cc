#include "base/json_text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tandem {
namespace {

TEST(JsonTextTest, EscapesLikeNlohmann) {
  for (std::string s : {std::string("plain"), std::string("quote \" back \\ slash"),
                        std::string("tab\tnew\nline\rcr\bb\ff"), std::string("\x01\x1f ctl"),
                        std::string("utf-8: caf\xc3\xa9 \xe2\x9c\x93"), std::string()}) {
    std::string ours;
    AppendJsonString(ours, s);
    EXPECT_EQ(ours, nlohmann::json(s).dump()) << s;
  }
}

// Plain text is skipped 8 bytes at a time: every special character at every offset of a long
// string, next to UTF-8 and the characters on either side of the special ones.
TEST(JsonTextTest, EscapesAtEveryOffsetOfLongText) {
  const std::string base = "SELECT caf\xc3\xa9 !#[]^_`{}~ 0123456789 abcdefghijklmnopqrstuvwxyz";
  for (char special : {'"', '\\', '\n', '\x01', '\x1f', '\x7f', ' ', '!', '#', '['}) {
    for (size_t at = 0; at < base.size(); ++at) {
      if (static_cast<unsigned char>(base[at]) >= 0x80) continue;  // keep the UTF-8 valid
      std::string s = base;
      s[at] = special;
      std::string ours;
      AppendJsonString(ours, s);
      ASSERT_EQ(ours, nlohmann::json(s).dump()) << int(special) << " at " << at;
    }
  }
}

// A file name may hold any byte; the JSON text stays UTF-8, as nlohmann's replace handler makes it.
TEST(JsonTextTest, BytesThatAreNotUtf8BecomeReplacementCharacters) {
  for (std::string s : {std::string("a\xff b"), std::string("\xc3"), std::string("x \xc3("),
                        std::string("caf\xc3\xa9 \xfe\xfe \"q\"")}) {
    std::string ours;
    AppendJsonString(ours, s);
    EXPECT_EQ(ours,
              nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
        << s;
  }
}

}  // namespace
}  // namespace tandem
