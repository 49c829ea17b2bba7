// `tandem verify` of online migrations and --new-queries on a real PostgreSQL: an online
// migration is verified as release runs it (its expand steps, not its SQL), the old app's
// queries after each step and the new app's once the expand is done, on the plan's
// search_path; a failing new-app query is named with its file and line.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "migrate/layouts.h"
#include "migrate/runner.h"
#include "pg/url.h"
#include "testing/harness.h"
#include "verify/verify.h"

namespace tandem::verify {
namespace {

class NewQueriesTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    dir_.Write("db/migrations/1_base.sql",
               "-- migrate:up\nCREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY "
               "PRIMARY KEY, name text NOT NULL DEFAULT 'x', n int);\n"
               "CREATE TABLE items (id bigserial PRIMARY KEY, price text NOT NULL DEFAULT '0');\n");
    dir_.Write("old.sql",
               "SELECT id, name FROM users WHERE id = $1;\n"
               "UPDATE users SET name = $1 WHERE id = $2;\n"
               "INSERT INTO users (name, n) VALUES ($1, $2) RETURNING id;\n"
               "SELECT * FROM users;\n");
  }
  void TearDown() override {
    if (!shadow_db_.empty())
      Admin()->Exec("DROP DATABASE IF EXISTS " + pg::QuoteIdentifier(shadow_db_) + " WITH (FORCE)");
    PgTest::TearDown();
  }
  std::unique_ptr<pg::Connection> Admin() {
    std::string error;
    auto url = pg::ParseDatabaseUrl(testing::SharedServer(&error)->Url("postgres"));
    return std::move(pg::Connection::Open(*url).value());
  }
  std::string ShadowUrl() {
    std::string error;
    if (!shadow_db_.empty()) return testing::SharedServer(&error)->Url(shadow_db_);
    shadow_db_ = database() + "_shadow";
    EXPECT_TRUE(
        Admin()
            ->Exec("CREATE DATABASE " + pg::QuoteIdentifier(shadow_db_) + " TEMPLATE template0")
            .ok());
    return testing::SharedServer(&error)->Url(shadow_db_);
  }
  // A new empty shadow (a verify run leaves its migrations in the one it used).
  std::string FreshShadowUrl() {
    if (!shadow_db_.empty()) {
      Admin()->Exec("DROP DATABASE IF EXISTS " + pg::QuoteIdentifier(shadow_db_) + " WITH (FORCE)");
      shadow_db_.clear();
    }
    return ShadowUrl();
  }
  // Applies migration 1 on the target, then verifies the rest with old.sql and new.sql.
  Result<VerifyReport> VerifyPending() {
    auto files = migrate::LoadMigrations((dir_.path() / "db/migrations").string());
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    auto target = Connect();
    migrate::UpOptions up;
    up.to_version = "1";
    auto applied = migrate::Up(*target, *files, up);
    EXPECT_TRUE(applied.status.ok()) << applied.status.ToString();
    VerifyOptions options;
    options.target_url = url();
    options.shadow_url = ShadowUrl();
    options.old_queries_file = (dir_.path() / "old.sql").string();
    options.new_queries_file = (dir_.path() / "new.sql").string();
    return Verify(*files, options);
  }
  std::string Errors(const VerifyReport& report) {
    std::string out;
    for (const auto& c : report.compat) out += "old: " + c.query + ": " + c.error + "\n";
    for (const auto& f : report.new_app) out += "new: " + f.query + ": " + f.error + "\n";
    for (const auto& f : report.findings)
      if (f.severity == Severity::kError) out += "finding: " + f.rule + ": " + f.message + "\n";
    for (const auto& m : report.migrations)
      for (const auto& st : m.statements)
        if (st.error) out += "statement: " + st.sql + ": " + st.error->message() + "\n";
    return out;
  }

  testing::TempDir dir_;
  std::string shadow_db_;
};

constexpr char kOnlineRename[] =
    "-- tandem:online\n-- migrate:up\nALTER TABLE users RENAME COLUMN name TO full_name;\n";

TEST_F(NewQueriesTest, OnlineRenameOldAndNewAppQueriesBothWorkAfterTheExpand) {
  dir_.Write("db/migrations/2_rename.sql", kOnlineRename);
  dir_.Write("new.sql",
             "SELECT id, full_name FROM users WHERE id = $1;\n"
             "UPDATE users SET full_name = $1 WHERE id = $2;\n"
             "INSERT INTO users (full_name, n) VALUES ($1, $2) RETURNING id;\n");
  auto report = VerifyPending();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->migrations.size(), 1u);
  const MigrationTrace& trace = report->migrations[0];
  EXPECT_TRUE(trace.succeeded);
  EXPECT_NE(trace.name.find("online: expand"), std::string::npos) << trace.name;
  // The expand's steps ran on the shadow, not the RENAME as written.
  ASSERT_FALSE(trace.statements.empty());
  for (const auto& st : trace.statements)
    EXPECT_EQ(st.sql.find("RENAME COLUMN"), std::string::npos) << st.sql;
  EXPECT_EQ(report->compat_summary.checked, 4);
  EXPECT_TRUE(report->compat.empty()) << Errors(*report);
  EXPECT_TRUE(report->new_app_checked);
  EXPECT_EQ(report->new_app_summary.checked, 3);
  EXPECT_TRUE(report->new_app.empty()) << Errors(*report);
  EXPECT_EQ(report->new_app_summary.search_path, "");
  EXPECT_FALSE(report->HasErrors()) << Errors(*report);
}

TEST_F(NewQueriesTest, ANewAppQueryUsingANameThePlanDoesNotProvideFails) {
  dir_.Write("db/migrations/2_rename.sql", kOnlineRename);
  dir_.Write("new.sql",
             "SELECT id, full_name FROM users WHERE id = $1;\n"
             "SELECT nickname FROM users WHERE id = $1;\n");
  auto report = VerifyPending();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->compat.empty()) << Errors(*report);
  ASSERT_EQ(report->new_app.size(), 1u) << Errors(*report);
  EXPECT_EQ(report->new_app[0].query, "SELECT nickname FROM users WHERE id = $1");
  EXPECT_EQ(report->new_app[0].source, (dir_.path() / "new.sql").string() + ":2");
  EXPECT_EQ(report->new_app[0].sqlstate, "42703");
  EXPECT_EQ(report->new_app[0].error, "column \"nickname\" does not exist");
  EXPECT_TRUE(report->HasErrors());

  // The binary: exit 1, the query named with its file and line, both lists in the JSON.
  auto text = testing::RunTandem({"verify", "--shadow-url", FreshShadowUrl(), "--old-queries",
                                  "old.sql", "--new-queries", "new.sql"},
                                 dir_.path().string(), {"DATABASE_URL=" + url()});
  EXPECT_EQ(text.exit_code, 1) << text.out << text.err;
  EXPECT_NE(text.out.find("new.sql:2: error: new-app query fails after the migrations: SELECT "
                          "nickname FROM users WHERE id = $1"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("DETAIL: column \"nickname\" does not exist (SQLSTATE 42703)"),
            std::string::npos)
      << text.out;
  auto json = testing::RunTandem({"--format", "json", "verify", "--shadow-url", FreshShadowUrl(),
                                  "--old-queries", "old.sql", "--new-queries", "new.sql"},
                                 dir_.path().string(), {"DATABASE_URL=" + url()});
  EXPECT_EQ(json.exit_code, 1) << json.out << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["compat"].size(), 0u);
  ASSERT_EQ(j["new_app_compat"].size(), 1u) << json.out;
  EXPECT_EQ(j["new_app_compat"][0]["query_source"], "new.sql:2");
  EXPECT_EQ(j["new_app_compat"][0]["sqlstate"], "42703");
  EXPECT_EQ(j["new_app_summary"]["checked"], 2);
  EXPECT_TRUE(j["new_app_summary"]["search_path"].is_null());
  EXPECT_EQ(j["ok"], false);
}

// A type change gives the new app a search_path (the versioned schema's view): its queries are
// checked there, the old app's on the default one.
TEST_F(NewQueriesTest, OnlineTypeChangeNewQueriesAreCheckedOnThePlansSearchPath) {
  dir_.Write("db/migrations/2_price.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE items ALTER COLUMN price TYPE bigint "
             "USING price::bigint;\n");
  dir_.Write("old.sql", "SELECT lower(price) FROM items WHERE id = $1;\n");
  // bigint arithmetic: fails on the text column, works on the new app's view.
  dir_.Write("new.sql", "SELECT price + 1 FROM items WHERE id = $1;\n");
  auto report = VerifyPending();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->compat_summary.checked, 1);
  EXPECT_TRUE(report->compat.empty()) << Errors(*report);
  EXPECT_EQ(report->new_app_summary.search_path, "\"tandem_v2\", \"public\"");
  EXPECT_TRUE(report->new_app.empty()) << Errors(*report);
  EXPECT_FALSE(report->HasErrors()) << Errors(*report);
}

// Not online: the rename runs as written and breaks the old app's query (as before); the new
// app's query with the new name works.
TEST_F(NewQueriesTest, APlainRenameStillBreaksTheOldAppsQuery) {
  dir_.Write("db/migrations/2_rename.sql",
             "-- migrate:up\nALTER TABLE users RENAME COLUMN name TO full_name;\n");
  dir_.Write("new.sql", "SELECT id, full_name FROM users WHERE id = $1;\n");
  auto report = VerifyPending();
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_GE(report->compat.size(), 1u);
  EXPECT_EQ(report->compat[0].query, "SELECT id, name FROM users WHERE id = $1");
  EXPECT_EQ(report->compat[0].query_source, (dir_.path() / "old.sql").string() + ":1");
  EXPECT_EQ(report->compat[0].sqlstate, "42703");
  EXPECT_TRUE(report->new_app.empty()) << Errors(*report);
  EXPECT_TRUE(report->HasErrors());
}

}  // namespace
}  // namespace tandem::verify
