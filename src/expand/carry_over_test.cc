// What a changed column takes to its successor, against the real server through the real
// binary: checks, expression and partial indexes (with their operator classes, INCLUDE columns
// and predicates), and a primary key with its identity. Each test runs the old app and the new
// app while the expand, backfill and contract run (zero failed queries, every row ends with the
// last value written), then reads the catalog: the carried object is on the final column under
// its original name, and it still rejects a bad row.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "expand/apps_test_util.h"
#include "expand/online_test_util.h"

namespace tandem::testing {
namespace {

using expand::testing::App;
using expand::testing::AppSql;

constexpr int kRows = 2000;

class CarryOverTest : public OnlineTest {
 protected:
  std::string IndexDef(const std::string& name) {
    return QueryValue("SELECT indexdef FROM pg_indexes WHERE indexname = '" + name + "'");
  }
  std::string ConstraintDef(const std::string& name) {
    return QueryValue(
        "SELECT pg_get_constraintdef(oid) || ' ' || convalidated FROM pg_constraint WHERE "
        "conname = '" +
        name + "'");
  }
  std::string Columns(const std::string& table) {
    return QueryValue(
        "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE "
        "attrelid = '" +
        table + "'::regclass AND attnum > 0 AND NOT attisdropped");
  }
  std::string SearchPath(const std::string& version) {
    auto plan = Tandem({"--format", "json", "plan", version});
    EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
    auto j = nlohmann::json::parse(plan.out, nullptr, false);
    if (j.is_discarded() || !j["new_app_search_path"].is_string()) return "public";
    return j["new_app_search_path"].get<std::string>();
  }
};

TEST_F(CarryOverTest, RenameCarriesChecksExpressionPartialAndIncludeIndexes) {
  Release("1_users.sql",
          "-- migrate:up\nCREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
          "name text NOT NULL DEFAULT 'x', n int, CONSTRAINT users_name_len CHECK "
          "(length(name) BETWEEN 1 AND 40));\n"
          "CREATE INDEX users_lower_idx ON users (lower(name) text_pattern_ops);\n"
          "CREATE INDEX users_active_idx ON users (n DESC) WHERE name <> 'gone';\n"
          "CREATE INDEX users_n_incl ON users (n) INCLUDE (name);\n"
          "INSERT INTO users (name, n) SELECT 'u' || g, g FROM generate_series(1, " +
              std::to_string(kRows) + ") g;\n");
  App old_app(url(), "public",
              {"UPDATE users SET name = $1 WHERE id = $2", "SELECT name FROM users WHERE id = $1",
               "INSERT INTO users (name) VALUES ($1) RETURNING id", "SELECT * FROM users LIMIT 1"},
              1, kRows / 2);
  old_app.Start();
  old_app.WaitRounds(50);
  dir_.Write("db/migrations/2_rename.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE users RENAME COLUMN name TO "
             "full_name;\n");
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  App new_app(
      url(), "public",
      {"UPDATE users SET full_name = $1 WHERE id = $2", "SELECT full_name FROM users WHERE id = $1",
       "INSERT INTO users (full_name) VALUES ($1) RETURNING id", "SELECT * FROM users LIMIT 1"},
      kRows / 2 + 1, kRows);
  new_app.Start();
  new_app.WaitRounds(50);
  // While both apps run, the original check guards the new app's writes too (through the
  // trigger's write of the old column).
  EXPECT_EQ(SqlState("UPDATE users SET full_name = '' WHERE id = 1"), "23514");
  Backfill("2");
  old_app.WaitRounds(50);
  old_app.Stop();
  Complete("2");
  new_app.WaitRounds(50);
  new_app.Stop();
  ExpectClean(old_app, "old app");
  ExpectClean(new_app, "new app");
  ExpectLastValues(old_app, "users", "full_name");
  ExpectLastValues(new_app, "users", "full_name");
  EXPECT_EQ(State("2"), "completed");
  EXPECT_EQ(Columns("users"), "id,n,full_name");
  EXPECT_EQ(ConstraintDef("users_name_len"),
            "CHECK (((length(full_name) >= 1) AND (length(full_name) <= 40))) true");
  EXPECT_EQ(SqlState("UPDATE users SET full_name = '' WHERE id = 1"), "23514");
  EXPECT_EQ(IndexDef("users_lower_idx"),
            "CREATE INDEX users_lower_idx ON public.users USING btree (lower(full_name) "
            "text_pattern_ops)");
  EXPECT_EQ(IndexDef("users_active_idx"),
            "CREATE INDEX users_active_idx ON public.users USING btree (n DESC) WHERE (full_name "
            "<> 'gone'::text)");
  EXPECT_EQ(IndexDef("users_n_incl"),
            "CREATE INDEX users_n_incl ON public.users USING btree (n) INCLUDE (full_name)");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_index WHERE indrelid = 'users'::regclass AND NOT "
                       "indisvalid"),
            "0");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_constraint WHERE conrelid = 'users'::regclass "
                       "AND conname LIKE '\\_tandem%'"),
            "0");
}

// The classic case: an int identity primary key running out, changed to bigint online.
TEST_F(CarryOverTest, IdentityPrimaryKeyIntToBigintWhileBothAppsInsert) {
  Release("1_items.sql",
          "-- migrate:up\nCREATE TABLE items (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
          "v text NOT NULL, CONSTRAINT items_id_positive CHECK (id > 0));\n"
          "INSERT INTO items (v) SELECT 'i' || g FROM generate_series(1, " +
              std::to_string(kRows) + ") g;\n");
  AppSql sql{"UPDATE items SET v = $1 WHERE id = $2", "SELECT v FROM items WHERE id = $1",
             "INSERT INTO items (v) VALUES ($1) RETURNING id", "SELECT * FROM items LIMIT 1"};
  App old_app(url(), "public", sql, 1, kRows / 2);
  old_app.Start();
  old_app.WaitRounds(50);
  dir_.Write("db/migrations/2_bigint.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE items ALTER COLUMN id TYPE bigint;\n");
  std::string search_path = SearchPath("2");
  EXPECT_EQ(search_path, "\"tandem_v2\", \"public\"");
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  old_app.WaitRounds(50);
  // The new app sees the key through the successor, which the backfill fills: it looks rows up
  // by key once the backfill is done (docs/expand-contract.md).
  Backfill("2");
  App new_app(url(), search_path, sql, kRows / 2 + 1, kRows);
  new_app.Start();
  new_app.WaitRounds(50);
  old_app.WaitRounds(50);
  old_app.Stop();
  Complete("2");
  new_app.WaitRounds(50);
  new_app.Stop();
  ExpectClean(old_app, "old app");
  ExpectClean(new_app, "new app");
  ExpectLastValues(old_app, "items", "v");
  ExpectLastValues(new_app, "items", "v");
  EXPECT_EQ(State("2"), "completed");
  EXPECT_EQ(Columns("items"), "v,id");
  EXPECT_EQ(
      QueryValue("SELECT format_type(atttypid, atttypmod) || ' ' || attidentity::text || ' ' || "
                 "attnotnull FROM pg_attribute WHERE attrelid = 'items'::regclass AND "
                 "attname = 'id'"),
      "bigint a true");
  // The primary key, under its name, on the final column; it rejects a duplicate.
  EXPECT_EQ(QueryValue("SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = 'items'::regclass AND contype = 'p'"),
            "items_pkey PRIMARY KEY (id)");
  EXPECT_EQ(SqlState("INSERT INTO items (id, v) OVERRIDING SYSTEM VALUE VALUES (1, 'dup')"),
            "23505");
  // The check, carried and validated, rejects a bad row.
  EXPECT_EQ(ConstraintDef("items_id_positive"), "CHECK ((id > 0)) true");
  EXPECT_EQ(SqlState("INSERT INTO items (id, v) OVERRIDING SYSTEM VALUE VALUES (-1, 'neg')"),
            "23514");
  // The identity goes on where the old one stood, under the old sequence's name, and now
  // passes 2^31 - 1.
  EXPECT_EQ(QueryValue("SELECT pg_get_serial_sequence('items', 'id')"), "public.items_id_seq");
  std::string max_before = QueryValue("SELECT max(id) FROM items");
  std::string next = QueryValue("INSERT INTO items (v) VALUES ('after') RETURNING id");
  EXPECT_GT(std::stoll(next), std::stoll(max_before));
  Status set = Connect()->Exec("SELECT setval('items_id_seq', 2147483647)");
  ASSERT_TRUE(set.ok()) << set.ToString();
  EXPECT_EQ(QueryValue("INSERT INTO items (v) VALUES ('big') RETURNING id"), "2147483648");
  EXPECT_EQ(QueryValue("SELECT to_regnamespace('tandem_v2') IS NULL"), "t");
}

// A serial key (a default taking nextval of an owned sequence): the sequence moves to the
// successor and widens with it.
TEST_F(CarryOverTest, SerialPrimaryKeyIntToBigintMovesAndWidensItsSequence) {
  Release("1_things.sql",
          "-- migrate:up\nCREATE TABLE things (id serial PRIMARY KEY, v text);\n"
          "INSERT INTO things (v) SELECT 't' || g FROM generate_series(1, 100) g;\n");
  Release("2_bigint.sql",
          "-- tandem:online\n-- migrate:up\nALTER TABLE things ALTER COLUMN id TYPE bigint;\n");
  EXPECT_EQ(QueryValue("INSERT INTO things (v) VALUES ('during') RETURNING id"), "101");
  Backfill("2");
  Complete("2");
  EXPECT_EQ(QueryValue("SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE conrelid = 'things'::regclass AND contype = 'p'"),
            "things_pkey PRIMARY KEY (id)");
  EXPECT_EQ(QueryValue("SELECT pg_get_serial_sequence('things', 'id')"), "public.things_id_seq");
  EXPECT_EQ(QueryValue("INSERT INTO things (v) VALUES ('after') RETURNING id"), "102");
  Status set = Connect()->Exec("SELECT setval('things_id_seq', 2147483647)");
  ASSERT_TRUE(set.ok()) << set.ToString();
  EXPECT_EQ(QueryValue("INSERT INTO things (v) VALUES ('big') RETURNING id"), "2147483648");
}

TEST_F(CarryOverTest, RefusesAReferencedKeyAndACheckThatDoesNotFitTheNewType) {
  Release("1_t.sql",
          "-- migrate:up\nCREATE TABLE parents (id int PRIMARY KEY);\nCREATE TABLE kids (id int "
          "PRIMARY KEY, parent_id int REFERENCES parents (id));\nCREATE TABLE prices (id int "
          "PRIMARY KEY, price text CONSTRAINT prices_short CHECK (length(price) < 10));\n");
  dir_.Write("db/migrations/2_bigint.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE parents ALTER COLUMN id TYPE bigint;\n");
  auto refused = Tandem({"plan", "2"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("is referenced by foreign key \"kids_parent_id_fkey\" of kids"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("HINT: drop \"kids_parent_id_fkey\" in a migration before this one"),
            std::string::npos)
      << refused.err;
  dir_.Write("db/migrations/2_bigint.sql",
             "-- tandem:online\n-- tandem:down-expression price::text\n-- migrate:up\nALTER "
             "TABLE prices ALTER COLUMN price TYPE bigint USING price::bigint;\n");
  refused = Tandem({"plan", "2"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("check constraint \"prices_short\" cannot be carried over to the "
                             "successor: function length(bigint) does not exist"),
            std::string::npos)
      << refused.err;
}

}  // namespace
}  // namespace tandem::testing
