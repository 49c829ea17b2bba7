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

TEST(UrlTest, BadPercentEncodingInThePasswordIsNotEchoed) {
  auto url = ParseDatabaseUrl("postgresql://app:s3%zzcr3t@db/x");
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.status().code(), StatusCode::kInvalidInput);
  std::string all = url.status().ToString();
  EXPECT_EQ(all.find("cr3t"), std::string::npos) << all;
  EXPECT_EQ(all.find("zz"), std::string::npos) << all;
  EXPECT_NE(all.find("percent-encoded"), std::string::npos) << all;
}

TEST(UrlTest, UnencodedAtInThePasswordIsRefusedWithoutShowingAnyOfIt) {
  auto url = ParseDatabaseUrl("postgresql://app:p4@ss@w0rd@db:5432/x");
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.status().code(), StatusCode::kInvalidInput);
  std::string all = url.status().ToString();
  for (const char* part : {"p4", "ss@", "w0rd"}) {
    EXPECT_EQ(all.find(part), std::string::npos) << all;
  }
  EXPECT_NE(all.find("postgresql://app:***@db:5432/x"), std::string::npos) << all;
  EXPECT_NE(all.find("%40"), std::string::npos) << all;
}

TEST(UrlTest, PortThatIsNotANumberIsInvalidInput) {
  for (const char* bad : {"postgresql://app:pw@db:notaport/x", "postgresql://app:pw@db:99999/x",
                          "host=db port=5x dbname=x"}) {
    auto url = ParseDatabaseUrl(bad);
    ASSERT_FALSE(url.ok()) << bad;
    EXPECT_EQ(url.status().code(), StatusCode::kInvalidInput) << bad;
    EXPECT_NE(url.status().detail().find("port"), std::string::npos) << bad;
  }
  // A '/' in an unencoded password makes libpq read "app:se" as host and port: the port (part
  // of the password) is not shown.
  auto slash = ParseDatabaseUrl("postgresql://app:s3/cr3t@db/x");
  ASSERT_FALSE(slash.ok());
  EXPECT_EQ(slash.status().ToString().find("s3"), std::string::npos) << slash.status().ToString();
  EXPECT_EQ(slash.status().ToString().find("cr3t"), std::string::npos) << slash.status().ToString();
  auto numeric = ParseDatabaseUrl("postgresql://app:1234/cr3t@db/x");
  ASSERT_FALSE(numeric.ok());
  EXPECT_EQ(numeric.status().ToString().find("cr3t"), std::string::npos)
      << numeric.status().ToString();
  EXPECT_TRUE(ParseDatabaseUrl("postgresql://app@h1:5432,h2:5433/x").ok());
  EXPECT_TRUE(ParseDatabaseUrl("postgresql://app:p%40ss@db/x?sslmode=disable").ok());
  EXPECT_TRUE(ParseDatabaseUrl("postgresql://app@h1,h2:5433/x").ok());
}

TEST(UrlTest, RedactionRunsToTheLastAt) {
  EXPECT_EQ(RedactSecrets("unexpected postgresql://app:se@cr@et@db/x here"),
            "unexpected postgresql://app:***@db/x here");
  EXPECT_EQ(RedactSecrets("postgresql://app@db/x"), "postgresql://app@db/x");
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
