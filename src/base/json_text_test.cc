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

}  // namespace
}  // namespace tandem
