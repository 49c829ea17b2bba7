#include "config/config.h"

#include <gtest/gtest.h>

namespace tandem::config {
namespace {

TEST(ConfigTest, DefaultTextParses) {
  auto c = ParseConfigText(DefaultConfigText(), "tandem.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->schema, "tandem");
  EXPECT_EQ(c->release.lock_timeout.count(), 500);
  EXPECT_EQ(c->release.retry_budget.count(), 600'000);
  EXPECT_FALSE(c->layout.has_value());
}

TEST(ConfigTest, ReadsEverySection) {
  auto c = ParseConfigText(R"(
[database]
url = "postgresql://a@b/c"
[migrations]
dir = "sql"
layout = "goose"
[runner]
lock_wait = "5s"
[release]
lock_timeout = "1s"
[lint]
pg_version = 13
[lint.rules]
renaming-column = "off"
)",
                           "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->database_url, "postgresql://a@b/c");
  EXPECT_EQ(c->migrations_dir, "sql");
  EXPECT_EQ(c->layout, migrate::Layout::kGoose);
  EXPECT_EQ(c->lock_wait.count(), 5000);
  EXPECT_EQ(c->release.lock_timeout.count(), 1000);
  EXPECT_EQ(c->lint_pg_version, 13);
  EXPECT_EQ(c->lint_rules.at("renaming-column"), "off");
}

TEST(ConfigTest, MalformedFileNamesLineAndColumn) {
  auto c = ParseConfigText("[database]\nurl = \"unterminated\n", "tandem.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(c.status().location().file, "tandem.toml");
  EXPECT_EQ(c.status().location().line, 2);
  EXPECT_NE(c.status().message().find("malformed configuration file"), std::string::npos);
}

TEST(ConfigTest, UnknownKeyIsAnErrorNotASilentDefault) {
  auto c = ParseConfigText("[release]\nlock_timout = \"1s\"\n", "tandem.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "unknown key \"release.lock_timout\" in configuration file");
  EXPECT_EQ(c.status().location().line, 2);
  EXPECT_NE(c.status().hint().find("lock_timeout"), std::string::npos);
}

TEST(ConfigTest, BadValuesAreRejected) {
  EXPECT_FALSE(ParseConfigText("[release]\nlock_timeout = \"soon\"\n", "t").ok());
  EXPECT_FALSE(ParseConfigText("[migrations]\nlayout = \"rails\"\n", "t").ok());
  EXPECT_FALSE(ParseConfigText("[lint.rules]\nx = \"loud\"\n", "t").ok());
}

}  // namespace
}  // namespace tandem::config
