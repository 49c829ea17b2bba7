// Lint's live-catalog path on a real PostgreSQL: ReadCatalog's model of tables, columns,
// constraints and indexes, and `tandem lint --database-url` through the real binary on a
// directory holding only a new migration, whose findings depend on what the database holds
// (types, validated CHECKs, NOT NULL, foreign keys, existing tables) and on its version.
#include "lint/catalog.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testing/harness.h"

namespace tandem::lint {
namespace {

using nlohmann::json;
using ::tandem::testing::RunTandem;
using ::tandem::testing::TempDir;

class LintCatalogTest : public ::tandem::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    auto connection = Connect();
    ASSERT_NE(connection, nullptr);
    for (const char* sql : {
             "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(20), code varchar(30), "
             "email text, nick text, price numeric(10,2), tags text[], flags varbit(10), "
             "seen_at timestamptz(3), created_at timestamptz NOT NULL DEFAULT now())",
             "ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL)",
             "ALTER TABLE users ADD CONSTRAINT users_nick_not_null CHECK (nick IS NOT NULL) "
             "NOT VALID",
             "CREATE INDEX users_code_idx ON users (code, name)",
             "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint "
             "CONSTRAINT orders_user_fk REFERENCES users (id))",
             "CREATE TABLE accounts (\"Owner\" text CONSTRAINT accounts_owner_not_null "
             "CHECK (\"Owner\" IS NOT NULL))",
             "CREATE SCHEMA app",
             "CREATE TABLE app.events (id int, at timestamptz) PARTITION BY RANGE (at)",
         }) {
      Status s = connection->Exec(sql);
      ASSERT_TRUE(s.ok()) << sql << ": " << s.ToString();
    }
  }

  // "line rule" for every finding of a `tandem lint --format json` run, in report order.
  static std::vector<std::string> LineRules(const json& report) {
    std::vector<std::string> out;
    for (const auto& f : report["findings"]) {
      out.push_back(std::to_string(f["line"].get<int>()) + " " + f["rule"].get<std::string>());
    }
    return out;
  }

  TempDir dir_;
};

TEST_F(LintCatalogTest, ReadCatalogModelsTablesColumnsConstraintsAndIndexes) {
  auto connection = Connect();
  ASSERT_NE(connection, nullptr);
  auto schema = ReadCatalog(*connection);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  const sql::QualifiedName users{"", "users"};

  const ColumnInfo* name = schema->FindColumn(users, "name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->type.ToSql(), "varchar(20)");
  EXPECT_FALSE(name->not_null);
  EXPECT_FALSE(name->has_default);
  const ColumnInfo* price = schema->FindColumn(users, "price");
  ASSERT_NE(price, nullptr);
  EXPECT_EQ(price->type.name, "numeric");
  EXPECT_EQ(price->type.modifiers, (std::vector<int>{10, 2}));
  const ColumnInfo* tags = schema->FindColumn(users, "tags");
  ASSERT_NE(tags, nullptr);
  EXPECT_EQ(tags->type.name, "text");
  EXPECT_TRUE(tags->type.is_array);
  // Type modifiers as the migrations write them: the catalog's typmod is decoded per type.
  const ColumnInfo* flags = schema->FindColumn(users, "flags");
  ASSERT_NE(flags, nullptr);
  EXPECT_EQ(flags->type.name, "varbit");
  EXPECT_EQ(flags->type.modifiers, std::vector<int>{10});
  const ColumnInfo* seen_at = schema->FindColumn(users, "seen_at");
  ASSERT_NE(seen_at, nullptr);
  EXPECT_EQ(seen_at->type.name, "timestamptz");
  EXPECT_EQ(seen_at->type.modifiers, std::vector<int>{3});
  const ColumnInfo* id = schema->FindColumn(users, "id");
  ASSERT_NE(id, nullptr);
  EXPECT_EQ(id->type.name, "int8");
  EXPECT_TRUE(id->not_null);
  const ColumnInfo* created_at = schema->FindColumn(users, "created_at");
  ASSERT_NE(created_at, nullptr);
  EXPECT_EQ(created_at->type.name, "timestamptz");
  EXPECT_TRUE(created_at->not_null);
  EXPECT_TRUE(created_at->has_default);

  // Only a validated CHECK (col IS NOT NULL) proves the column; quoted names are unquoted.
  EXPECT_TRUE(schema->HasValidatedNotNullCheck(users, "email"));
  EXPECT_FALSE(schema->HasValidatedNotNullCheck(users, "nick"));
  EXPECT_FALSE(schema->HasValidatedNotNullCheck(users, "name"));
  EXPECT_TRUE(schema->HasValidatedNotNullCheck({"", "accounts"}, "Owner"));

  const TableInfo* orders = schema->FindTable({"", "orders"});
  ASSERT_NE(orders, nullptr);
  ASSERT_EQ(orders->constraints.count("orders_user_fk"), 1u);
  EXPECT_EQ(orders->constraints.at("orders_user_fk").kind, sql::ConstraintKind::kForeignKey);
  EXPECT_EQ(orders->constraints.at("orders_user_fk").referenced_table, "users");
  ASSERT_EQ(orders->constraints.count("orders_pkey"), 1u);
  EXPECT_EQ(orders->constraints.at("orders_pkey").kind, sql::ConstraintKind::kPrimaryKey);

  const IndexInfo* index = schema->FindIndex("users_code_idx");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->table, "users");
  EXPECT_EQ(index->columns, (std::vector<std::string>{"code", "name"}));
  ASSERT_NE(schema->FindIndex("users_pkey"), nullptr);
  EXPECT_EQ(schema->FindIndex("users_pkey")->columns, std::vector<std::string>{"id"});

  // Tables outside public are keyed with their schema; system catalogs are left out.
  const TableInfo* events = schema->FindTable({"app", "events"});
  ASSERT_NE(events, nullptr);
  EXPECT_TRUE(events->partitioned);
  EXPECT_EQ(schema->FindTable({"", "events"}), nullptr);
  EXPECT_FALSE(schema->FindTable(users)->partitioned);
  EXPECT_EQ(schema->FindTable({"pg_catalog", "pg_class"}), nullptr);
  EXPECT_EQ(schema->FindTable({"", "pg_class"}), nullptr);

  EXPECT_EQ(ServerVersion(*connection).major, 15);
  EXPECT_GE(ServerVersion(*connection).minor, 0);
}

TEST_F(LintCatalogTest, CliFindingsDependOnTheLiveCatalog) {
  // The only migration: no earlier one created these tables, so what lint knows about them
  // comes from the database.
  dir_.Write("db/migrations/20260101000000_live.sql",
             "-- migrate:up\n"
             "ALTER TABLE users ALTER COLUMN name TYPE varchar(50);\n"    // 2: widening
             "ALTER TABLE users ALTER COLUMN code TYPE varchar(10);\n"    // 3: narrowing
             "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"       // 4: validated CHECK
             "ALTER TABLE users ALTER COLUMN nick SET NOT NULL;\n"        // 5: NOT VALID CHECK
             "ALTER TABLE users ALTER COLUMN created_at SET NOT NULL;\n"  // 6: already NOT NULL
             "CREATE INDEX users_nick_idx ON users (nick);\n"             // 7: existing table
             "CREATE TABLE fresh (id int);\n"                             // 8
             "CREATE INDEX fresh_id_idx ON fresh (id);\n"                 // 9: created above
             "CREATE TABLE IF NOT EXISTS orders (id bigint);\n"           // 10: exists: no-op
             "CREATE INDEX orders_user_idx ON orders (user_id);\n"        // 11: existing table
             "ALTER TABLE orders DROP CONSTRAINT orders_user_fk;\n");     // 12: a foreign key
  auto live =
      RunTandem({"lint", "--format", "json", "--database-url", url()}, dir_.path().string());
  ASSERT_EQ(live.exit_code, 1) << live.out << live.err;
  EXPECT_EQ(live.err.find("without the live catalog"), std::string::npos) << live.err;
  json report = json::parse(live.out);
  // The type rules (info: varchar(n), integer) read only the statement, catalog or not.
  EXPECT_EQ(LineRules(report), (std::vector<std::string>{
                                   "2 prefer-text-over-varchar",
                                   "3 change-column-type",
                                   "3 narrow-column-type-pre-deploy",
                                   "3 prefer-text-over-varchar",
                                   "5 set-not-null-scan",
                                   "7 create-index-non-concurrently",
                                   "8 prefer-bigint",
                                   "11 create-index-non-concurrently",
                                   "12 drop-foreign-key",
                               }))
      << report.dump(2);
  EXPECT_EQ(report["findings"][1]["message"],
            "changing column \"code\" of users to varchar(10) from varchar(30) rewrites the table "
            "and all its indexes");
  EXPECT_EQ(report["findings"].back()["lock"], "ACCESS EXCLUSIVE on orders and on users");
  // Connected, lint targets the server's version.
  EXPECT_EQ(report["pg_version_source"], "server");
  EXPECT_EQ(report["pg_version"].get<std::string>().rfind("15.", 0), 0u) << report["pg_version"];

  // Offline the same file is linted blind: the widening's old type is unknown (a warning), the
  // CHECK and the existing NOT NULL are not seen, the constraint is not known to be a foreign
  // key, and CREATE TABLE IF NOT EXISTS looks like it creates orders.
  auto offline = RunTandem({"lint", "--format", "json"}, dir_.path().string());
  ASSERT_EQ(offline.exit_code, 1) << offline.out << offline.err;
  json blind = json::parse(offline.out);
  EXPECT_EQ(LineRules(blind), (std::vector<std::string>{
                                  "2 change-column-type",
                                  "2 prefer-text-over-varchar",
                                  "3 change-column-type",
                                  "3 prefer-text-over-varchar",
                                  "4 set-not-null-pre-deploy",
                                  "4 set-not-null-scan",
                                  "5 set-not-null-pre-deploy",
                                  "5 set-not-null-scan",
                                  "6 set-not-null-pre-deploy",
                                  "6 set-not-null-scan",
                                  "7 create-index-non-concurrently",
                                  "8 prefer-bigint",
                              }))
      << blind.dump(2);
  EXPECT_EQ(blind["findings"][0]["severity"], "warning");
  EXPECT_EQ(blind["pg_version_source"], "default");
}

TEST_F(LintCatalogTest, PgVersionFlagOverridesTheServersVersion) {
  dir_.Write("db/migrations/20260101000000_live.sql",
             "-- migrate:up\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n");
  // Before PostgreSQL 12 a validated CHECK does not spare SET NOT NULL its scan.
  auto old = RunTandem({"lint", "--format", "json", "--database-url", url(), "--pg-version", "11"},
                       dir_.path().string());
  ASSERT_EQ(old.exit_code, 1) << old.out << old.err;
  json report = json::parse(old.out);
  EXPECT_EQ(report["pg_version"], "11");
  EXPECT_EQ(report["pg_version_source"], "--pg-version");
  // (set-not-null-pre-deploy stays quiet either way: the CHECK already refuses NULL writes.)
  EXPECT_EQ(LineRules(report), (std::vector<std::string>{"2 set-not-null-scan"}));

  auto current =
      RunTandem({"lint", "--format", "json", "--database-url", url()}, dir_.path().string());
  ASSERT_EQ(current.exit_code, 0) << current.out << current.err;
  EXPECT_EQ(LineRules(json::parse(current.out)), std::vector<std::string>{});
}

// Once applied, a migration is still judged by the history before it, never by the catalog
// its own application produced: `CREATE TABLE IF NOT EXISTS t` then `CREATE INDEX ON t` creates
// the index on a new, empty table, applied or not. A pending migration after it is judged by
// the live catalog, where t exists. The URL comes from DATABASE_URL, read by default.
TEST_F(LintCatalogTest, AppliedMigrationsAreJudgedByTheirHistoryPendingOnesByTheCatalog) {
  dir_.Write("db/migrations/1_t.sql",
             "-- migrate:up\ncreate table if not exists t (id bigint primary key, v bigint);\n"
             "create index t_v on t (v);\n");
  std::vector<std::string> env = {"DATABASE_URL=" + url(), "TANDEM_DATABASE_URL="};
  auto errors = [](const json& report) {
    std::vector<std::string> out;
    for (const auto& f : report["findings"]) {
      if (f["severity"] != "error") continue;
      std::string file = f["file"].get<std::string>();
      out.push_back(file.substr(file.rfind('/') + 1) + ":" + std::to_string(f["line"].get<int>()) +
                    " " + f["rule"].get<std::string>());
    }
    return out;
  };
  auto pending = RunTandem({"lint", "--format", "json"}, dir_.path().string(), env);
  ASSERT_EQ(pending.exit_code, 0) << pending.out << pending.err;
  EXPECT_EQ(json::parse(pending.out)["pg_version_source"], "server") << "connected";

  auto up = RunTandem({"up"}, dir_.path().string(), env);
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  ASSERT_EQ(QueryValue("SELECT to_regclass('t_v') IS NOT NULL"), "t");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"lint", "--format", "json"},
        std::vector<std::string>{"lint", "--format", "json", "db/migrations/1_t.sql"},
        std::vector<std::string>{"lint", "--format", "json", "db/migrations"}}) {
    auto applied = RunTandem(args, dir_.path().string(), env);
    EXPECT_EQ(applied.exit_code, 0) << applied.out << applied.err;
    EXPECT_EQ(applied.err.find("warning"), std::string::npos) << applied.err;
    EXPECT_EQ(errors(json::parse(applied.out)), std::vector<std::string>{}) << applied.out;
  }

  dir_.Write("db/migrations/2_more.sql", "-- migrate:up\ncreate index t_v2 on t (v);\n");
  auto next = RunTandem({"lint", "--format", "json"}, dir_.path().string(), env);
  EXPECT_EQ(next.exit_code, 1) << next.out << next.err;
  EXPECT_EQ(errors(json::parse(next.out)),
            std::vector<std::string>{"2_more.sql:2 create-index-non-concurrently"})
      << next.out;
}

}  // namespace
}  // namespace tandem::lint
