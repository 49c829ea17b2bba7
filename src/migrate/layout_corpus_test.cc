// Real-world migration directories (read in place from the shared corpus, never copied) load
// with their layout auto-detected, and every file either splits or fails with its location.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "migrate/layouts.h"
#include "testing/paths.h"

namespace tandem::migrate {
namespace {

struct CorpusCase {
  const char* folder;
  Layout layout;
  size_t at_least;
};

// The corpus suite (ctest label "corpus", run by .ci/run) must fail, not pass vacuously, when
// the corpus is not there.
TEST(SharedCorpus, IsPresent) {
  for (const char* folder : {"/lemmy/migrations", "/kratos/migrations", "/harbor/postgresql"}) {
    EXPECT_TRUE(std::filesystem::is_directory(std::string(TANDEM_CORPUS_DIR) + folder))
        << "the shared corpus is missing: " << TANDEM_CORPUS_DIR << folder;
  }
}

class LayoutCorpusTest : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(LayoutCorpusTest, LoadsWithTheLayoutDetected) {
  const CorpusCase& c = GetParam();
  std::string dir = std::string(TANDEM_CORPUS_DIR) + c.folder;
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << "the corpus is missing: " << dir;
  auto set = LoadMigrations(dir);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->layout, c.layout);
  EXPECT_GE(set->migrations.size(), c.at_least);
  for (size_t i = 1; i < set->migrations.size(); ++i) {
    EXPECT_LT(set->Compare(set->migrations[i - 1].version, set->migrations[i].version), 0);
  }
  // The corpus has files that are not PostgreSQL 15 SQL (templates, other dialects): each one
  // must fail with its file and line, and not stop the others from being read.
  size_t failed = 0;
  for (Migration& m : set->migrations) {
    Status s = SplitSections(m);
    if (s.ok()) continue;
    ++failed;
    EXPECT_EQ(s.code(), StatusCode::kInvalidInput);
    EXPECT_TRUE(std::find(m.paths.begin(), m.paths.end(), s.location().file) != m.paths.end())
        << s.ToString();
    EXPECT_GT(s.location().line, 0) << s.ToString();
  }
  std::cerr << c.folder << ": " << set->migrations.size() << " migrations, " << failed
            << " do not split\n";
}

INSTANTIATE_TEST_SUITE_P(
    Layout, LayoutCorpusTest,
    ::testing::Values(CorpusCase{"/lemmy/migrations", Layout::kDiesel, 300},
                      // ory/pop names: <v>_<name>[.postgres|.sqlite][.autocommit].up.sql
                      CorpusCase{"/kratos/migrations", Layout::kGolangMigrate, 300},
                      // up files only
                      CorpusCase{"/harbor/postgresql", Layout::kGolangMigrate, 39}),
    [](const ::testing::TestParamInfo<CorpusCase>& info) {
      std::string folder = info.param.folder;
      return folder.substr(1, folder.find('/', 1) - 1);
    });

TEST(LayoutCorpusKratosTest, PicksThePostgresVariant) {
  auto set = LoadMigrations(std::string(TANDEM_CORPUS_DIR) + "/kratos/migrations");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  const Migration* m = set->Find("20260616000000000000");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(std::filesystem::path(m->paths.at(0)).filename(),
            "20260616000000000000_courier_messages_restore_list_index.postgres.autocommit.up.sql");
  EXPECT_FALSE(m->transactional);
  // A version whose only up file is SQLite's is not a PostgreSQL migration.
  for (const Migration& each : set->migrations) {
    for (const std::string& path : each.paths) {
      EXPECT_EQ(path.find(".sqlite"), std::string::npos) << path;
    }
  }
}

TEST(LayoutCorpusLemmyTest, VersionOrderMatchesDiesel) {
  // Diesel orders by the version string; lemmy's 14- and 18-digit versions sort the same way
  // numerically, because the longer form was introduced later.
  auto set = LoadMigrations(std::string(TANDEM_CORPUS_DIR) + "/lemmy/migrations");
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  std::vector<std::string> versions;
  for (const Migration& m : set->migrations) versions.push_back(m.version);
  EXPECT_TRUE(std::is_sorted(versions.begin(), versions.end()));
  EXPECT_EQ(versions.front(), "00000000000000");
}

}  // namespace
}  // namespace tandem::migrate
