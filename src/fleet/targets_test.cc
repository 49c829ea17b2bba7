#include "fleet/targets.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "testing/harness.h"

namespace tandem::fleet {
namespace {

std::vector<Target> Three() {
  std::vector<Target> all(3);
  all[0].name = "a";
  all[0].groups = {"canary"};
  all[1].name = "b";
  all[1].groups = {"eu", "canary"};
  all[2].name = "c";
  return all;
}

TEST(TargetsTest, SelectsByNameGroupOrAll) {
  auto all = SelectTargets(Three(), "all");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto canary = SelectTargets(Three(), "group:canary");
  ASSERT_TRUE(canary.ok());
  ASSERT_EQ(canary->size(), 2u);
  EXPECT_EQ((*canary)[0].name, "a");
  EXPECT_EQ((*canary)[1].name, "b");
  auto one = SelectTargets(Three(), "c");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)[0].name, "c");
}

TEST(TargetsTest, UnknownNamesAndGroupsAreBadInputWithTheKnownOnes) {
  auto name = SelectTargets(Three(), "d");
  ASSERT_FALSE(name.ok());
  EXPECT_EQ(name.status().code(), StatusCode::kInvalidInput);
  EXPECT_EQ(name.status().message(), "unknown target \"d\"");
  EXPECT_NE(name.status().hint().find("targets: a, b, c"), std::string::npos);
  auto group = SelectTargets(Three(), "group:us");
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.status().message(), "no target is in group \"us\"");
  EXPECT_EQ(group.status().hint(), "known groups: canary, eu");
  EXPECT_FALSE(SelectTargets({}, "all").ok());
}

TEST(TargetsTest, UnsetUrlEnvMakesThatTargetUnreachableNotTheFleet) {
  auto config = config::ParseConfigText(R"([[targets]]
name = "a"
url = "postgresql://app:sekret@127.0.0.1:1/a"
[[targets]]
name = "b"
url_env = "TANDEM_FLEET_TEST_UNSET_VARIABLE"
)",
                                        "t.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  unsetenv("TANDEM_FLEET_TEST_UNSET_VARIABLE");
  auto targets = ListTargets(*config);
  ASSERT_TRUE(targets.ok()) << targets.status().ToString();
  ASSERT_EQ(targets->size(), 2u);
  EXPECT_TRUE((*targets)[0].problem.ok());
  EXPECT_FALSE((*targets)[1].problem.ok());
  auto connection = ConnectTarget((*targets)[1], *config);
  ASSERT_FALSE(connection.ok());
  EXPECT_TRUE(IsUnreachable(connection.status()));
  EXPECT_NE(connection.status().message().find("TANDEM_FLEET_TEST_UNSET_VARIABLE"),
            std::string::npos);
  // Refused connection: unreachable, and the password is not in anything printed.
  auto refused = ConnectTarget((*targets)[0], *config, 2);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(IsUnreachable(refused.status()));
  EXPECT_EQ(refused.status().ToString().find("sekret"), std::string::npos)
      << refused.status().ToString();
}

class CatalogTest : public testing::PgTest {};

TEST_F(CatalogTest, TargetsQueryAddsTheCatalogsDatabasesAfterTheList) {
  ASSERT_TRUE(Connect()->Exec("CREATE TABLE shards (name text, url text, groups text)").ok());
  ASSERT_TRUE(Connect()
                  ->Exec("INSERT INTO shards VALUES ('s2', 'postgresql://x@h/s2', NULL), "
                         "('s1', 'postgresql://x@h/s1', 'canary, eu')")
                  .ok());
  auto config = config::ParseConfigText(
      "[[targets]]\nname = \"static\"\nurl = \"postgresql://x@h/static\"\n"
      "[fleet]\ntargets_query = \"SELECT name, url, groups FROM shards ORDER BY name\"\n"
      "catalog_url = \"" +
          url() + "\"\n",
      "t.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto targets = ListTargets(*config);
  ASSERT_TRUE(targets.ok()) << targets.status().ToString();
  ASSERT_EQ(targets->size(), 3u);
  EXPECT_EQ((*targets)[0].name, "static");
  EXPECT_EQ((*targets)[1].name, "s1");
  EXPECT_EQ((*targets)[1].groups, (std::vector<std::string>{"canary", "eu"}));
  EXPECT_EQ((*targets)[2].url, "postgresql://x@h/s2");
  EXPECT_TRUE((*targets)[2].groups.empty());

  // The same name in the list and the catalog is refused rather than run twice.
  ASSERT_TRUE(
      Connect()->Exec("INSERT INTO shards VALUES ('static', 'postgresql://x@h/y', '')").ok());
  auto twice = ListTargets(*config);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(), "target \"static\" is configured twice");
}

TEST_F(CatalogTest, AnUnreadableCatalogStopsTheCommand) {
  auto config = config::ParseConfigText(
      "[fleet]\ntargets_query = \"SELECT name FROM nowhere\"\ncatalog_url = \"" + url() + "\"\n",
      "t.toml");
  ASSERT_TRUE(config.ok());
  auto targets = ListTargets(*config);
  ASSERT_FALSE(targets.ok());
  EXPECT_NE(targets.status().message().find("[fleet] targets_query"), std::string::npos)
      << targets.status().ToString();
}

}  // namespace
}  // namespace tandem::fleet
