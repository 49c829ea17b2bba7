// Adoption from each tool's history table, created the way each tool creates it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/harness.h"

namespace tandem::testing {
namespace {

class AdoptTest : public PgTest {
 protected:
  void Files(const std::vector<std::string>& names) {
    for (const auto& n : names) dir_.Write("db/migrations/" + n, "-- migrate:up\nSELECT 1;\n");
  }
  ProcessOutput Adopt(const std::string& from, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"adopt", "--from", from};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunTandem(args, dir_.path().string(), {"TANDEM_DATABASE_URL=" + url()});
  }
  void Sql(const std::string& sql) {
    auto c = Connect();
    ASSERT_TRUE(c->Exec(sql).ok()) << sql;
  }
  std::string Applied() {
    return QueryValue(
        "SELECT string_agg(version || ':' || adopted_from, ',' ORDER BY "
        "version::numeric) FROM tandem.migrations WHERE status = 'succeeded'");
  }
  TempDir dir_;
};

TEST_F(AdoptTest, Dbmate) {
  Files({"20240101000000_a.sql", "20240102000000_b.sql", "20240103000000_c.sql"});
  Sql("CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY)");
  Sql("INSERT INTO schema_migrations VALUES ('20240101000000'), ('20240102000000')");
  auto r = Adopt("dbmate");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Applied(), "20240101000000:dbmate,20240102000000:dbmate");
  auto status = RunTandem({"status", "--format", "json"}, dir_.path().string(),
                          {"TANDEM_DATABASE_URL=" + url()});
  auto json = nlohmann::json::parse(status.out);
  EXPECT_EQ(json["migrations"][1]["status"], "applied");
  EXPECT_EQ(json["migrations"][2]["status"], "pending");
  // Adopting again records nothing new.
  auto again = Adopt("dbmate", {"--format", "json"});
  EXPECT_EQ(nlohmann::json::parse(again.out)["adopted"].size(), 0u);
}

TEST_F(AdoptTest, Rails) {
  Files({"20240101000000_a.sql", "20240102000000_b.sql"});
  Sql("CREATE TABLE schema_migrations (version character varying NOT NULL PRIMARY KEY)");
  Sql("CREATE TABLE ar_internal_metadata (key character varying PRIMARY KEY, value character "
      "varying, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)");
  Sql("INSERT INTO schema_migrations VALUES ('20240101000000')");
  ASSERT_EQ(Adopt("rails").exit_code, 0);
  EXPECT_EQ(Applied(), "20240101000000:rails");
}

TEST_F(AdoptTest, GolangMigrateCleanAndDirty) {
  Files({"1_a.sql", "2_b.sql", "3_c.sql"});
  Sql("CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT "
      "NULL)");
  Sql("INSERT INTO schema_migrations VALUES (2, true)");
  auto dirty = Adopt("golang-migrate");
  EXPECT_EQ(dirty.exit_code, 1);
  EXPECT_NE(dirty.err.find("version 2 is dirty"), std::string::npos) << dirty.err;
  EXPECT_EQ(QueryValue("SELECT to_regnamespace('tandem') IS NULL"), "t");
  Sql("UPDATE schema_migrations SET dirty = false");
  ASSERT_EQ(Adopt("golang-migrate").exit_code, 0);
  EXPECT_EQ(Applied(), "1:golang-migrate,2:golang-migrate");
}

TEST_F(AdoptTest, Diesel) {
  Files({"20190101000000_a.sql", "20190102000000_b.sql"});
  Sql("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, "
      "run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)");
  Sql("INSERT INTO __diesel_schema_migrations (version) VALUES ('20190101000000'), "
      "('20190102000000')");
  ASSERT_EQ(Adopt("diesel").exit_code, 0);
  EXPECT_EQ(Applied(), "20190101000000:diesel,20190102000000:diesel");
}

TEST_F(AdoptTest, FlywayWithBaseline) {
  Files({"1_a.sql", "2_b.sql", "3_c.sql", "4_d.sql"});
  Sql("CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version "
      "VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script "
      "VARCHAR(1000) NOT NULL, checksum INTEGER, installed_by VARCHAR(100) NOT NULL, "
      "installed_on TIMESTAMP NOT NULL DEFAULT now(), execution_time INTEGER NOT NULL, success "
      "BOOLEAN NOT NULL)");
  Sql("INSERT INTO flyway_schema_history VALUES (1, '2', '<< Flyway Baseline >>', 'BASELINE', "
      "'<< Flyway Baseline >>', NULL, 'x', now(), 0, true), (2, '3', 'c', 'SQL', 'V3__c.sql', 1, "
      "'x', now(), 5, true), (3, '4', 'd', 'SQL', 'V4__d.sql', 1, 'x', now(), 5, false)");
  ASSERT_EQ(Adopt("flyway").exit_code, 0);
  EXPECT_EQ(Applied(), "1:flyway,2:flyway,3:flyway");
}

TEST_F(AdoptTest, GooseUsesTheLatestRowPerVersion) {
  Files({"00001_a.sql", "00002_b.sql", "00003_c.sql"});
  Sql("CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL, "
      "is_applied boolean NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id))");
  Sql("INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true), "
      "(2, true), (3, true), (3, false)");
  ASSERT_EQ(Adopt("goose").exit_code, 0);
  EXPECT_EQ(Applied(), "00001:goose,00002:goose");
}

TEST_F(AdoptTest, MissingHistoryTableIsBadInput) {
  Files({"1_a.sql"});
  auto r = Adopt("flyway");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no flyway history here: table \"flyway_schema_history\" does not exist"),
            std::string::npos)
      << r.err;
}

TEST_F(AdoptTest, UnknownToolIsBadUsage) {
  auto r = Adopt("liquibase");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown tool \"liquibase\""), std::string::npos);
}

}  // namespace
}  // namespace tandem::testing
