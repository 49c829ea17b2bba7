// A fixture for the loader's tests: a temporary migrations directory, loading it, and errors
// rendered with the directory shortened to "D" so expectations read like the real output.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "migrate/layouts.h"
#include "testing/harness.h"

namespace tandem::migrate {

class LayoutFixture : public ::testing::Test {
 protected:
  std::string Dir() const { return dir_.path().string(); }
  std::string Path(const std::string& relative) const { return Dir() + "/" + relative; }
  void Write(const std::string& relative, const std::string& text) { dir_.Write(relative, text); }

  Result<MigrationSet> Load(std::optional<Layout> layout = std::nullopt) const {
    LoadOptions options;
    options.layout = layout;
    return LoadMigrations(Dir(), options);
  }

  // Loads, expecting success.
  MigrationSet MustLoad(std::optional<Layout> layout = std::nullopt) const {
    auto set = Load(layout);
    EXPECT_TRUE(set.ok()) << set.status().ToString();
    return set.ok() ? *set : MigrationSet();
  }

  std::string Shorten(std::string text) const {
    for (size_t at; (at = text.find(Dir())) != std::string::npos;) {
      text.replace(at, Dir().size(), "D");
    }
    return text;
  }

  // The whole rendered error of loading ("ok" when it loads).
  std::string LoadError(std::optional<Layout> layout = std::nullopt) const {
    auto set = Load(layout);
    if (set.ok()) return "ok";
    EXPECT_EQ(set.status().code(), StatusCode::kInvalidInput);
    return Shorten(set.status().ToString());
  }

  // The rendered error of splitting the only migration ("ok" when it splits).
  std::string SplitError() const {
    auto set = Load();
    if (!set.ok()) return "load: " + Shorten(set.status().ToString());
    EXPECT_EQ(set->migrations.size(), 1u);
    Status s = SplitSections(set->migrations.front());
    if (s.ok()) s = SplitDownSection(set->migrations.front());
    return s.ok() ? "ok" : Shorten(s.ToString());
  }

  // Loads and splits the only migration.
  Migration Split() const {
    MigrationSet set = MustLoad();
    EXPECT_EQ(set.migrations.size(), 1u);
    if (set.migrations.empty()) return Migration();
    Migration m = set.migrations.front();
    Status s = SplitSections(m);
    if (s.ok()) s = SplitDownSection(m);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return m;
  }

  tandem::testing::TempDir dir_;
};

}  // namespace tandem::migrate
