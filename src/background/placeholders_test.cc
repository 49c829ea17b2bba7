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

TEST(BackgroundPlaceholders, ACompositeKeyBindsEachPlaceholderAsARowOfParameters) {
  auto bound = BindPlaceholders(
      "UPDATE t SET n = 1 WHERE (a, b) >= :batch_start AND (a, b) <= :batch_end", 2);
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_EQ(bound->sql, "UPDATE t SET n = 1 WHERE (a, b) >= ($1, $2) AND (a, b) <= ($3, $4)");
}

TEST(BackgroundPlaceholders, OperatorsThatSkipOrRepeatBoundaryRowsAreRefused) {
  auto check = [](const std::string& sql, bool closed) {
    auto bound = BindPlaceholders(sql);
    EXPECT_TRUE(bound.ok()) << sql;
    return CheckRangeOperators(sql, *bound, closed);
  };
  EXPECT_TRUE(check("UPDATE t SET n = 1 WHERE k >= :batch_start AND k < :batch_end", false).ok());
  EXPECT_TRUE(check("UPDATE t SET n = 1 WHERE k >= :batch_start AND k <= :batch_end", true).ok());
  EXPECT_TRUE(check("UPDATE t SET n = 1 WHERE k BETWEEN :batch_start AND :batch_end", true).ok());
  EXPECT_TRUE(check("UPDATE t SET n = 1 WHERE :batch_start <= k AND :batch_end >= k", true).ok());
  auto repeats = check("UPDATE t SET n = 1 WHERE k >= :batch_start AND\n k <= :batch_end", false);
  ASSERT_FALSE(repeats.ok());
  EXPECT_EQ(repeats.message(),
            "the comparison <= with :batch_end skips or repeats the rows on batch boundaries "
            "(line 2)");
  EXPECT_NE(repeats.hint().find("half-open"), std::string::npos);
  auto skips = check("UPDATE t SET n = 1 WHERE k >= :batch_start AND k < :batch_end", true);
  ASSERT_FALSE(skips.ok());
  EXPECT_NE(skips.hint().find("key <= :batch_end"), std::string::npos);
  EXPECT_FALSE(check("UPDATE t SET n = 1 WHERE :batch_end > k AND k >= :batch_start", true).ok());
  EXPECT_FALSE(check("UPDATE t SET n = 1 WHERE k > :batch_start AND k <= :batch_end", true).ok());
}

}  // namespace
}  // namespace tandem::background
