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

TEST(ConfigTest, ReadsTheBackgroundSection) {
  auto c = ParseConfigText(R"([background]
target_batch_duration = "100ms"
min_batch_size = 50
max_batch_size = 5000
lock_timeout = "1s"
statement_timeout = "10s"
max_parallel = 3
max_replication_lag = "2s"
throttle_query = "SELECT false"
)",
                           "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->background.target_batch_duration.count(), 100);
  EXPECT_EQ(c->background.min_batch_size, 50);
  EXPECT_EQ(c->background.max_batch_size, 5000);
  EXPECT_EQ(c->background.statement_timeout.count(), 10'000);
  EXPECT_EQ(c->background.max_parallel, 3);
  EXPECT_EQ(c->background.throttle_query, "SELECT false");
  auto inverted = ParseConfigText("[background]\nmin_batch_size = 9\nmax_batch_size = 8\n", "t");
  ASSERT_FALSE(inverted.ok());
  EXPECT_NE(inverted.status().message().find("min_batch_size"), std::string::npos);
  EXPECT_FALSE(ParseConfigText("[background]\nmax_parallel = 0\n", "t").ok());
  EXPECT_FALSE(ParseConfigText("[background]\nthrottle_query = 1\n", "t").ok());
  EXPECT_FALSE(ParseConfigText("[background]\nbatch = 1\n", "t").ok());
}

TEST(ConfigTest, ReadsTheDashboardSection) {
  auto defaults = ParseConfigText("", "tandem.toml");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->dashboard.token_env, "TANDEM_DASHBOARD_TOKEN");
  EXPECT_EQ(defaults->dashboard.max_listen, 50);
  auto config = ParseConfigText(
      "[dashboard]\ntoken_env = \"OPS_TOKEN\"\nmax_listen = 0\nrefresh_interval = \"30s\"\n",
      "tandem.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->dashboard.token_env, "OPS_TOKEN");
  EXPECT_EQ(config->dashboard.max_listen, 0);
  EXPECT_EQ(config->dashboard.refresh_interval, Duration(30'000));
  // The token itself has no key: it is never written in the file.
  EXPECT_FALSE(ParseConfigText("[dashboard]\ntoken = \"x\"\n", "tandem.toml").ok());
  EXPECT_FALSE(ParseConfigText("[dashboard]\nmax_listen = -1\n", "tandem.toml").ok());
  EXPECT_FALSE(ParseConfigText("[dashboard]\nrefresh_interval = \"10ms\"\n", "t.toml").ok());
  EXPECT_FALSE(ParseConfigText("[dashboard]\ntoken_env = \"\"\n", "tandem.toml").ok());
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

TEST(ConfigTest, DurationsMustBeStringsOrIntegers) {
  for (const char* value : {"true", "false", "2.5", "[1]", "1979-05-27"}) {
    auto c = ParseConfigText(std::string("[release]\n\nlock_timeout = ") + value + "\n", "t.toml");
    ASSERT_FALSE(c.ok()) << value;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidInput);
    EXPECT_EQ(c.status().location().file, "t.toml");
    EXPECT_EQ(c.status().location().line, 3) << value;
    EXPECT_NE(c.status().message().find("\"lock_timeout\" must be a duration"), std::string::npos)
        << c.status().ToString();
  }
  auto ms = ParseConfigText("[release]\nlock_timeout = 750\n", "t.toml");
  ASSERT_TRUE(ms.ok()) << ms.status().ToString();
  EXPECT_EQ(ms->release.lock_timeout.count(), 750);
}

TEST(ConfigTest, DurationsBeyondPostgresLimitAreTooLarge) {
  for (const char* value : {"\"3000000s\"", "3000000000", "\"597h\""}) {
    auto c =
        ParseConfigText(std::string("[release]\nstatement_timeout = ") + value + "\n", "t.toml");
    ASSERT_FALSE(c.ok()) << value;
    EXPECT_EQ(c.status().location().line, 2);
    EXPECT_NE(c.status().message().find("\"statement_timeout\""), std::string::npos);
    EXPECT_NE(c.status().message().find("too large"), std::string::npos) << c.status().ToString();
  }
}

TEST(ConfigTest, OtherSettingsAreNotConvertedFromOtherTypes) {
  EXPECT_FALSE(ParseConfigText("[lint]\npg_version = true\n", "t").ok());
  EXPECT_FALSE(ParseConfigText("[lint]\npg_version = 15.0\n", "t").ok());
  EXPECT_FALSE(ParseConfigText("[database]\nschema = 5\n", "t").ok());
  EXPECT_FALSE(ParseConfigText("[lint.rules]\nx = true\n", "t").ok());
}

}  // namespace
}  // namespace tandem::config

namespace tandem::config {
namespace {

TEST(ConfigFleetTest, ReadsTargetsAndFleet) {
  auto c = ParseConfigText(R"([[targets]]
name = "shard-001"
url_env = "SHARD_001_URL"
groups = ["canary", "eu"]

[[targets]]
name = "shard-002"
url = "postgresql://app:secret@db2/app"

[fleet]
targets_query = "SELECT name, url FROM shards ORDER BY name"
catalog_url_env = "FLEET_CATALOG_URL"
concurrency = 4
canary = "canary"
max_failures = 3
)",
                           "t.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->targets.size(), 2u);
  EXPECT_EQ(c->targets[0].name, "shard-001");
  EXPECT_EQ(c->targets[0].url_env, "SHARD_001_URL");
  EXPECT_EQ(c->targets[0].groups, (std::vector<std::string>{"canary", "eu"}));
  EXPECT_EQ(c->targets[0].location.line, 1);
  EXPECT_EQ(c->targets[1].url, "postgresql://app:secret@db2/app");
  EXPECT_EQ(c->fleet.concurrency, 4);
  EXPECT_EQ(c->fleet.max_failures, 3);
  EXPECT_EQ(c->fleet.canary, "canary");
  EXPECT_EQ(c->fleet.catalog_url_env, "FLEET_CATALOG_URL");
  EXPECT_TRUE(c->HasTargets());
}

TEST(ConfigFleetTest, DefaultsWithoutAFleet) {
  auto c = ParseConfigText("[database]\nschema = \"tandem\"\n", "t.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->HasTargets());
  EXPECT_EQ(c->fleet.concurrency, 8);
  EXPECT_EQ(c->fleet.max_failures, 1);
  EXPECT_EQ(c->fleet.canary, "");
}

// Each bad file: the line and column of the offending key, and the message.
TEST(ConfigFleetTest, BadFleetConfigNamesTheSpot) {
  struct Case {
    const char* text;
    int line;
    int column;
    const char* message;
  };
  const Case cases[] = {
      {"[[targets]]\nname = \"a\"\nurl = \"postgresql://u:pw@h/d\"\nurl_env = \"X\"\n", 1, 1,
       "target \"a\" needs exactly one of url and url_env"},
      {"[[targets]]\nurl_env = \"X\"\n", 1, 1, "[[targets]] needs a name"},
      {"[[targets]]\nname = \"a b\"\nurl_env = \"X\"\n", 2, 8, "invalid target name \"a b\""},
      {"[[targets]]\nname = \"all\"\nurl_env = \"X\"\n", 2, 8, "invalid target name \"all\""},
      {"[[targets]]\nname = \"a\"\nurl_env = \"X\"\n[[targets]]\nname = \"a\"\nurl_env = \"Y\"\n",
       5, 8, "duplicate target name \"a\""},
      {"[[targets]]\nname = \"a\"\nurl_env = \"X\"\ngroup = [\"c\"]\n", 4, 9,
       "unknown key \"targets.group\" in configuration file"},
      {"[[targets]]\nname = \"a\"\nurl_env = \"X\"\ngroups = \"c\"\n", 4, 10,
       "\"groups\" must be an array of names"},
      {"[targets]\nname = \"a\"\n", 1, 1, "\"targets\" must be an array of tables"},
      {"[fleet]\nconcurrency = 0\n", 2, 15, "\"concurrency\" must be an integer from 1 to 1000"},
      {"[fleet]\nmax_failures = \"1\"\n", 2, 16,
       "\"max_failures\" must be an integer from 1 to 1000000"},
      {"[fleet]\ntargets_query = \"SELECT name, url FROM s\"\n", 2, 17,
       "\"targets_query\" needs a catalog database"},
      {"[fleet]\ncatalog_url_env = \"C\"\n", 2, 19, "a catalog database needs \"targets_query\""},
      {"[[targets]]\nname = \"a\"\nurl_env = \"X\"\n[fleet]\ncanary = \"canry\"\n", 5, 10,
       "no target is in the canary group \"canry\""},
      {"[fleet]\nconcurency = 4\n", 2, 14,
       "unknown key \"fleet.concurency\" in configuration file"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseConfigText(c.text, "tandem.toml");
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidInput) << c.text;
    EXPECT_EQ(parsed.status().message(), c.message) << c.text;
    EXPECT_EQ(parsed.status().location().file, "tandem.toml") << c.text;
    EXPECT_EQ(parsed.status().location().line, c.line) << c.text;
    EXPECT_EQ(parsed.status().location().column, c.column) << c.text;
    // A target URL is a secret: never quoted back in any message.
    EXPECT_EQ(parsed.status().ToString().find("pw@"), std::string::npos);
  }
}

}  // namespace
}  // namespace tandem::config
