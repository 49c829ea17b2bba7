#include "base/status.h"

#include <gtest/gtest.h>

namespace tandem {
namespace {

TEST(StatusTest, RendersLocationSqlStateDetailAndHint) {
  Status s = Status::Failed("column \"a\" does not exist")
                 .WithSqlState("42703")
                 .WithLocation({"db/migrations/1_x.sql", 3, 5})
                 .WithDetail("the detail")
                 .WithHint("the hint");
  EXPECT_EQ(s.ToString(),
            "db/migrations/1_x.sql:3:5: error: column \"a\" does not exist (SQLSTATE 42703)\n"
            "DETAIL: the detail\nHINT: the hint");
}

TEST(StatusTest, ExitCodesFollowTheProductContract) {
  EXPECT_EQ(ExitCodeFor(Status::Ok()), 0);
  EXPECT_EQ(ExitCodeFor(Status::Failed("x")), 1);
  EXPECT_EQ(ExitCodeFor(Status::InvalidInput("x")), 2);
  EXPECT_EQ(ExitCodeFor(Status::Unavailable("x")), 3);
}

Result<int> Half(int n) {
  if (n % 2 != 0) return Status::InvalidInput("odd number " + std::to_string(n));
  return n / 2;
}

Result<int> Quarter(int n) {
  TANDEM_ASSIGN_OR_RETURN(int half, Half(n));
  TANDEM_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

TEST(StatusTest, AssignOrReturnPropagatesTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd number 3");
}

// Every statement of a file carries its location: copies of a location share one path.
TEST(StatusTest, LocationsShareTheirFilePath) {
  SourceLocation a{"db/migrations/1_seed.sql", 3, 1};
  SourceLocation b = a;
  b.line = 4;
  EXPECT_EQ(&a.file.str(), &b.file.str());
  const std::string& path = b.file;
  EXPECT_EQ(path, "db/migrations/1_seed.sql");
  EXPECT_EQ(b.file, std::string("db/migrations/1_seed.sql"));
  EXPECT_EQ("in " + b.file + ":", "in db/migrations/1_seed.sql:");
  EXPECT_EQ(b.ToString(), "db/migrations/1_seed.sql:4:1");
  SourceLocation none{"", 7, 0};
  EXPECT_TRUE(none.file.empty());
  EXPECT_FALSE(none.known());
  EXPECT_EQ(none.file.str(), "");
}

}  // namespace
}  // namespace tandem
