#include "pg/url.h"

#include <gtest/gtest.h>

#include "pg/quote.h"

namespace tandem::pg {
namespace {

TEST(QuoteTest, QuotesEveryIdentifier) {
  EXPECT_EQ(QuoteIdentifier("users"), "\"users\"");
  EXPECT_EQ(QuoteIdentifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteQualified("tandem", "migrations"), "\"tandem\".\"migrations\"");
}

TEST(UrlTest, ParsesUrlAndRedactsPassword) {
  auto url = ParseDatabaseUrl("postgresql://app:s3cret@db.example:6543/shop");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->host, "db.example");
  EXPECT_EQ(url->port, "6543");
  EXPECT_EQ(url->dbname, "shop");
  EXPECT_EQ(url->Redacted(), "postgresql://app@db.example:6543/shop");
  EXPECT_EQ(url->HostAndPort(), "db.example:6543");
}

TEST(UrlTest, MalformedUrlIsInvalidInputWithoutThePassword) {
  auto url = ParseDatabaseUrl("postgresql://app:s3cret@db:notaport/x?bogus=1");
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(url.status().ToString().find("s3cret"), std::string::npos) << url.status().ToString();
}

TEST(UrlTest, RedactSecretsCoversUrlsAndKeyValues) {
  EXPECT_EQ(RedactSecrets("connect postgres://u:pw@h/db failed"),
            "connect postgres://u:***@h/db failed");
  EXPECT_EQ(RedactSecrets("host=h password=pw dbname=x"), "host=h password=*** dbname=x");
  EXPECT_EQ(RedactSecrets("host=h password='p w' dbname=x"), "host=h password=*** dbname=x");
}

TEST(UrlTest, ChildProcessesGetThePasswordThroughTheEnvironment) {
  auto url = ParseDatabaseUrl("postgresql://app:s3cr'et@db:6543/shop?sslmode=disable");
  ASSERT_TRUE(url.ok());
  ChildConnection child = ForChildProcess(*url);
  EXPECT_EQ(child.conninfo.find("s3cr"), std::string::npos) << child.conninfo;
  EXPECT_NE(child.conninfo.find("host='db'"), std::string::npos) << child.conninfo;
  EXPECT_NE(child.conninfo.find("port='6543'"), std::string::npos);
  EXPECT_EQ(child.Environment(), std::vector<std::string>{"PGPASSWORD=s3cr'et"});
  auto reparsed = ParseDatabaseUrl(child.conninfo);
  ASSERT_TRUE(reparsed.ok()) << reparsed.status().ToString();
  EXPECT_EQ(reparsed->dbname, "shop");
}

}  // namespace
}  // namespace tandem::pg
