// `tandem verify --from-pg-stat-statements` through the real binary. The suite's shared server
// does not preload pg_stat_statements, so these tests start a private embedded PostgreSQL that
// does: the old app's queries come from the target's statistics, and the ones a pending
// migration breaks are reported with that migration. Also the refusals when the target cannot
// give its queries (no extension, extension not preloaded, no target at all).
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pg/connection.h"
#include "pg/embedded_server.h"
#include "pg/quote.h"
#include "pg/url.h"
#include "testing/harness.h"

namespace tandem::verify {
namespace {

using nlohmann::json;
using ::tandem::testing::RunTandem;
using ::tandem::testing::TempDir;

// A private server with pg_stat_statements preloaded, shared by this suite's tests and stopped
// (its directory removed) after the last one.
class PgStatStatementsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg::EmbeddedOptions options;
    options.settings = {"shared_preload_libraries=pg_stat_statements"};
    auto started = pg::EmbeddedServer::Start(options);
    if (started.ok()) {
      server_ = std::move(started).value().release();
    } else {
      start_error_ = new std::string(started.status().ToString());
    }
  }
  static void TearDownTestSuite() {
    if (server_) server_->Stop();
    delete server_;
    server_ = nullptr;
    delete start_error_;
    start_error_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(server_, nullptr) << "could not start PostgreSQL with pg_stat_statements:\n"
                                << (start_error_ ? *start_error_ : "");
  }

  std::unique_ptr<pg::Connection> Open(const std::string& dbname) {
    auto url = pg::ParseDatabaseUrl(server_->Url(dbname));
    EXPECT_TRUE(url.ok());
    auto connection = pg::Connection::Open(*url);
    EXPECT_TRUE(connection.ok()) << connection.status().ToString();
    return connection.ok() ? std::move(connection).value() : nullptr;
  }
  void Exec(pg::Connection& connection, const std::string& sql) {
    Status s = connection.Exec(sql);
    ASSERT_TRUE(s.ok()) << sql << ": " << s.ToString();
  }
  // Creates an empty database on the private server; returns its URL.
  std::string CreateDatabase(const std::string& dbname) {
    auto admin = Open("postgres");
    if (admin) {
      Exec(*admin, "CREATE DATABASE " + pg::QuoteIdentifier(dbname) + " TEMPLATE template0");
    }
    return server_->Url(dbname);
  }
  // A target as a running app leaves it: a table, the extension, and the app's queries in
  // pg_stat_statements (with constants, which pg_stat_statements normalises to $n).
  std::string AppTarget(const std::string& dbname) {
    std::string url = CreateDatabase(dbname);
    auto app = Open(dbname);
    if (!app) return url;
    Exec(*app, "CREATE TABLE users (id bigserial PRIMARY KEY, name text, email text)");
    Exec(*app, "CREATE EXTENSION pg_stat_statements");
    for (int i = 1; i <= 3; ++i) {
      Exec(*app, "SELECT id, name FROM users WHERE id = " + std::to_string(i));
    }
    Exec(*app, "INSERT INTO users (email) VALUES ('a@example.com')");
    Exec(*app, "INSERT INTO users (email) VALUES ('b@example.com')");
    return url;
  }
  // A pending migration that breaks both app queries.
  void WriteRenames() {
    dir_.Write("db/migrations/1_add_bio.sql",
               "-- migrate:up\nALTER TABLE users ADD COLUMN bio text;\n");
    dir_.Write("db/migrations/2_rename.sql",
               "-- migrate:up\n"
               "ALTER TABLE users ADD COLUMN nick text;\n"
               "ALTER TABLE users RENAME COLUMN name TO full_name;\n"
               "ALTER TABLE users RENAME COLUMN email TO email_address;\n");
  }
  ProcessOutput Verify(const std::string& target, const std::string& shadow) {
    return RunTandem({"verify", "--from-pg-stat-statements", "--format", "json", "--database-url",
                      target, "--shadow-url", shadow},
                     dir_.path().string());
  }

  static pg::EmbeddedServer* server_;
  static std::string* start_error_;
  TempDir dir_;
};

pg::EmbeddedServer* PgStatStatementsTest::server_ = nullptr;
std::string* PgStatStatementsTest::start_error_ = nullptr;

TEST_F(PgStatStatementsTest, QueriesBrokenByAPendingMigrationAreReportedWithIt) {
  std::string target = AppTarget("renames");
  std::string shadow = CreateDatabase("renames_shadow");
  ASSERT_FALSE(HasFatalFailure());
  WriteRenames();
  auto out = Verify(target, shadow);
  ASSERT_EQ(out.exit_code, 1) << out.out << out.err;
  json report = json::parse(out.out);
  EXPECT_EQ(report["baseline"].get<std::string>().rfind("schema-only dump", 0), 0u)
      << report["baseline"];
  ASSERT_EQ(report["compat"].size(), 2u) << report["compat"].dump(2);
  const json& select = report["compat"][0];
  EXPECT_EQ(select["query"], "SELECT id, name FROM users WHERE id = $1");
  EXPECT_EQ(select["error"], "column \"name\" does not exist");
  EXPECT_EQ(select["sqlstate"], "42703");
  EXPECT_EQ(select["version"], "2");
  EXPECT_EQ(select["line"], 3);
  EXPECT_EQ(select["statement"], "ALTER TABLE users RENAME COLUMN name TO full_name");
  const json& insert = report["compat"][1];
  EXPECT_EQ(insert["query"], "INSERT INTO users (email) VALUES ($1)");
  EXPECT_EQ(insert["error"], "column \"email\" of relation \"users\" does not exist");
  EXPECT_EQ(insert["sqlstate"], "42703");
  EXPECT_EQ(insert["version"], "2");
  EXPECT_EQ(insert["line"], 4);
  EXPECT_EQ(insert["statement"], "ALTER TABLE users RENAME COLUMN email TO email_address");
  // The old-app queries are prepared inside the migration's transaction after each statement;
  // their locks (ROW EXCLUSIVE for the INSERT, ACCESS SHARE for the SELECT) must not be
  // reported on the next statement. The RENAME adds none: ADD COLUMN took ACCESS EXCLUSIVE.
  const json& rename = report["migrations"][1]["statements"][1];
  EXPECT_EQ(rename["sql"], "ALTER TABLE users RENAME COLUMN name TO full_name");
  EXPECT_EQ(rename["locks"], json::array()) << rename.dump(2);
  // Both app queries were read and prepared on the starting schema; the extension's setup
  // statements are utility statements, skipped.
  EXPECT_GE(report["compat_summary"]["checked"], 2) << report["compat_summary"];
  EXPECT_FALSE(report["ok"]);
}

TEST_F(PgStatStatementsTest, AddingANullableColumnBreaksNothing) {
  std::string target = AppTarget("adds");
  std::string shadow = CreateDatabase("adds_shadow");
  ASSERT_FALSE(HasFatalFailure());
  dir_.Write("db/migrations/1_add_bio.sql",
             "-- migrate:up\nALTER TABLE users ADD COLUMN bio text;\n");
  auto out = Verify(target, shadow);
  ASSERT_EQ(out.exit_code, 0) << out.out << out.err;
  json report = json::parse(out.out);
  EXPECT_EQ(report["compat"], json::array());
  EXPECT_GE(report["compat_summary"]["checked"], 2) << report["compat_summary"];
  ASSERT_EQ(report["migrations"].size(), 1u);
  EXPECT_EQ(report["migrations"][0]["succeeded"], true);
  EXPECT_TRUE(report["ok"]);
}

// pg_stat_statements shows the text of other roles' statements only to roles with
// pg_read_all_stats: a verify role without it sees none of the app's queries, and says so.
TEST_F(PgStatStatementsTest, StatementsOfOtherRolesNeedPgReadAllStats) {
  std::string target = AppTarget("roles");
  std::string first_shadow = CreateDatabase("roles_shadow1");
  std::string second_shadow = CreateDatabase("roles_shadow2");
  auto admin = Open("roles");
  ASSERT_NE(admin, nullptr);
  // Read-only access, enough for verify's schema-only pg_dump.
  Exec(*admin, "CREATE ROLE verifier LOGIN");
  Exec(*admin, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO verifier");
  Exec(*admin, "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO verifier");
  ASSERT_FALSE(HasFatalFailure());
  WriteRenames();
  std::string as_verifier =
      "postgresql://verifier@127.0.0.1:" + std::to_string(server_->port()) + "/roles";
  const std::string hidden =
      "statement(s) in pg_stat_statements belong to other roles and are hidden from role "
      "\"verifier\": they are not checked; grant it pg_read_all_stats to check them";

  auto blind = Verify(as_verifier, first_shadow);
  EXPECT_EQ(blind.exit_code, 1) << blind.out << blind.err;  // lint's rename-column errors
  json report = json::parse(blind.out);
  EXPECT_EQ(report["baseline"].get<std::string>().rfind("schema-only dump", 0), 0u)
      << report["baseline"];
  EXPECT_EQ(report["compat"], json::array());
  bool warned = false;
  for (const auto& w : report["warnings"]) {
    warned |= w.get<std::string>().find(hidden) != std::string::npos;
  }
  EXPECT_TRUE(warned) << report["warnings"];

  Exec(*admin, "GRANT pg_read_all_stats TO verifier");
  auto seeing = Verify(as_verifier, second_shadow);
  ASSERT_EQ(seeing.exit_code, 1) << seeing.out << seeing.err;
  report = json::parse(seeing.out);
  ASSERT_EQ(report["compat"].size(), 2u) << report["compat"].dump(2);
  EXPECT_EQ(report["compat"][0]["query"], "SELECT id, name FROM users WHERE id = $1");
  EXPECT_EQ(report["compat"][1]["query"], "INSERT INTO users (email) VALUES ($1)");
  for (const auto& w : report["warnings"]) {
    EXPECT_EQ(w.get<std::string>().find("hidden from role"), std::string::npos) << w;
  }
}

// The suite's shared server does not preload pg_stat_statements: the refusals.
class PgStatStatementsRefusalTest : public ::tandem::testing::PgTest {
 protected:
  ProcessOutput Verify(const std::vector<std::string>& target) {
    std::vector<std::string> args = {"verify", "--from-pg-stat-statements", "--format", "json"};
    args.insert(args.end(), target.begin(), target.end());
    return RunTandem(args, dir_.path().string());
  }
  TempDir dir_;
};

TEST_F(PgStatStatementsRefusalTest, TargetWithoutTheExtension) {
  dir_.Write("db/migrations/1_create.sql", "-- migrate:up\nCREATE TABLE users (id int);\n");
  auto out = Verify({"--database-url", url()});
  ASSERT_EQ(out.exit_code, 2) << out.out << out.err;
  json error = json::parse(out.out)["error"];
  EXPECT_EQ(error["message"], "pg_stat_statements is not installed on the target database");
  EXPECT_EQ(error["hint"],
            "run CREATE EXTENSION pg_stat_statements there (it must also be in "
            "shared_preload_libraries), or pass the queries with --old-queries FILE");
  EXPECT_EQ(error["exit_code"], 2);

  auto text = RunTandem({"verify", "--from-pg-stat-statements", "--database-url", url()},
                        dir_.path().string());
  EXPECT_EQ(text.exit_code, 2);
  EXPECT_EQ(text.out, "");
  EXPECT_EQ(text.err,
            "tandem: error: pg_stat_statements is not installed on the target database\n"
            "HINT: run CREATE EXTENSION pg_stat_statements there (it must also be in "
            "shared_preload_libraries), or pass the queries with --old-queries FILE\n");
}

TEST_F(PgStatStatementsRefusalTest, ExtensionInstalledButNotPreloaded) {
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->Exec("CREATE EXTENSION pg_stat_statements").ok());
  dir_.Write("db/migrations/1_create.sql", "-- migrate:up\nCREATE TABLE users (id int);\n");
  auto out = Verify({"--database-url", url()});
  ASSERT_EQ(out.exit_code, 2) << out.out << out.err;
  json error = json::parse(out.out)["error"];
  EXPECT_EQ(error["message"],
            "pg_stat_statements is installed on the target database but not loaded");
  EXPECT_EQ(error["detail"], "pg_stat_statements must be loaded via shared_preload_libraries");
  EXPECT_EQ(error["hint"],
            "add pg_stat_statements to shared_preload_libraries on the target's server and "
            "restart it, or pass the queries with --old-queries FILE");
  EXPECT_EQ(error["exit_code"], 2);
}

TEST_F(PgStatStatementsRefusalTest, NoTargetDatabase) {
  dir_.Write("db/migrations/1_create.sql", "-- migrate:up\nCREATE TABLE users (id int);\n");
  auto out = Verify({});
  ASSERT_EQ(out.exit_code, 2) << out.out << out.err;
  json error = json::parse(out.out)["error"];
  EXPECT_EQ(error["message"], "--from-pg-stat-statements needs a reachable target database");
  EXPECT_EQ(error["hint"], "set DATABASE_URL or pass --database-url, or use --old-queries FILE");
}

}  // namespace
}  // namespace tandem::verify
