#include "background/placeholders.h"

#include <gtest/gtest.h>

namespace tandem::background {
namespace {

TEST(BackgroundPlaceholders, BecomeParametersOutsideLiteralsCommentsAndCasts) {
  auto bound = BindPlaceholders(
      "-- fill :batch_start\n"
      "UPDATE t SET a = ':batch_start', b = $x$ :batch_end $x$, c = \":batch_end\", "
      "d = E'\\' :batch_end', e = id::text /* :nope /* nested */ */\n"
      " WHERE id >= :batch_start AND id < :batch_end;\n");
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_EQ(bound->sql,
            "UPDATE t SET a = ':batch_start', b = $x$ :batch_end $x$, c = \":batch_end\", "
            "d = E'\\' :batch_end', e = id::text /* :nope /* nested */ */\n"
            " WHERE id >= $1 AND id < $2");
  EXPECT_TRUE(bound->has_start);
  EXPECT_TRUE(bound->has_end);
}

TEST(BackgroundPlaceholders, AStatementWithoutThemIsRefusedWithTheReason) {
  auto bound = BindPlaceholders("UPDATE t SET a = 1;\n");
  ASSERT_FALSE(bound.ok());
  EXPECT_EQ(bound.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(bound.status().message().find(":batch_start and :batch_end"), std::string::npos);
  EXPECT_NE(bound.status().hint().find("WHERE key >= :batch_start"), std::string::npos);
}

TEST(BackgroundPlaceholders, UnknownPlaceholdersParametersAndSeveralStatementsAreRefused) {
  auto unknown = BindPlaceholders("UPDATE t SET a = 1\nWHERE id >= :from AND id < :batch_end");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find(":from"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("line 2"), std::string::npos);
  auto dollar = BindPlaceholders("UPDATE t SET a = $1 WHERE id >= :batch_start");
  ASSERT_FALSE(dollar.ok());
  auto two = BindPlaceholders(
      "UPDATE t SET a = 1 WHERE id >= :batch_start; UPDATE t SET b = 1 WHERE id < :batch_end;");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("exactly one statement"), std::string::npos);
}

}  // namespace
}  // namespace tandem::background
