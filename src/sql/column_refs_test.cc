#include "sql/column_refs.h"

#include <gtest/gtest.h>

namespace tandem::sql {
namespace {

TEST(RenameColumnRefs, RenamesColumnsNotLiteralsFunctionsTypesOrQualifiedNames) {
  auto r = RenameColumnRefs(
      "((price > 0) AND (lower(price::text) <> 'price'::text) AND "
      "(t.price IS NULL) AND (\"Odd \"\"x\" < price))",
      {{"price", "_tandem_new_price"}, {"Odd \"x", "y"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r,
            "((\"_tandem_new_price\" > 0) AND (lower(\"_tandem_new_price\"::text) <> "
            "'price'::text) AND (t.price IS NULL) AND (\"y\" < \"_tandem_new_price\"))");
}

TEST(RenameColumnRefs, ColumnNamedLikeAFunctionAndAnUnparsableExpression) {
  auto r = RenameColumnRefs("lower(lower)", {{"lower", "n"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "lower(\"n\")");
  EXPECT_FALSE(RenameColumnRefs("price >", {{"price", "n"}}).ok());
}

}  // namespace
}  // namespace tandem::sql
