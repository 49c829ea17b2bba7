#include "base/keep_until_exit.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tandem {
namespace {

TEST(KeepUntilExitTest, KeepsTheValueMovedIn) {
  std::vector<std::string> lines = {"first", std::string(100, 'x')};
  const std::string* data = lines.data();
  auto& kept = KeepUntilExit(std::move(lines));
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0], "first");
  EXPECT_EQ(kept[1], std::string(100, 'x'));
  EXPECT_EQ(kept.data(), data);  // moved, not copied
}

TEST(KeepUntilExitTest, EachCallKeepsItsOwnObject) {
  auto& a = KeepUntilExit(std::string("a"));
  auto& b = KeepUntilExit(std::string("b"));
  EXPECT_NE(&a, &b);
  EXPECT_EQ(a + b, "ab");
}

}  // namespace
}  // namespace tandem
