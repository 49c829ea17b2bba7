// The old app and the new app together, through the real binary, for the operations that had
// no two-app test: add a unique constraint, add a check, add a column computed for existing
// rows, drop a column, drop a table. Each app writes and reads its own rows on its own
// connection, with the names it uses, while `tandem release` expands, `tandem jobs finalize`
// backfills (when the plan has a backfill) and `tandem complete --now` contracts: zero failed
// queries, every row ends with the last value its app wrote, and the catalog ends as the
// migration says (the constraint validated and refusing a bad row, the column filled on every
// row, the column or table gone).
//
// The old app runs through the contract where the contract leaves what it uses alone (unique,
// check, computed column): that is the harder case. Where the contract drops what the old app
// uses (a column, a table), the old app is stopped first, as a person would before completing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "expand/apps_test_util.h"
#include "expand/online_test_util.h"

namespace tandem::testing {
namespace {

using expand::testing::App;
using expand::testing::AppSql;

constexpr int kRows = 2000;

class ExpandOpsAppsTest : public OnlineTest {
 protected:
  // The plan as `tandem plan --format json` prints it; checks the one operation's kind and that
  // the new app needs no search_path.
  nlohmann::json PlanJson(const std::string& version, const std::string& kind) {
    auto plan = Tandem({"--format", "json", "plan", version});
    EXPECT_EQ(plan.exit_code, 0) << plan.out << plan.err;
    auto j = nlohmann::json::parse(plan.out, nullptr, false);
    if (j.is_discarded()) {
      ADD_FAILURE() << plan.out;
      return nlohmann::json::object();
    }
    EXPECT_EQ(j["operations"].size(), 1u) << plan.out;
    if (!j["operations"].empty()) {
      EXPECT_EQ(j["operations"][0]["kind"], kind) << plan.out;
    }
    EXPECT_TRUE(j["new_app_search_path"].is_null()) << plan.out;
    return j;
  }
  std::string BackfillJobs(const std::string& version) {
    return QueryValue("SELECT count(*) FROM tandem.jobs WHERE kind = 'background' AND version = '" +
                      version + "'");
  }
  // The rows `app` inserted (ids past the seeded ones), as an SQL list, and how many.
  static std::pair<std::string, int> InsertedIds(App& app) {
    std::string ids;
    int n = 0;
    for (const auto& [id, value] : app.written()) {
      if (id <= kRows) continue;
      ids += (ids.empty() ? "" : ", ") + std::to_string(id);
      ++n;
    }
    return {ids, n};
  }
};

// Add a unique constraint: the index built concurrently while both apps write, then made the
// constraint (USING INDEX). Both apps write unique emails. The new app, deployed once the expand
// is done, relies on the constraint (ON CONFLICT (email)).
TEST_F(ExpandOpsAppsTest, AddUniqueOldAndNewAppTogetherZeroFailures) {
  Release("1_users.sql",
          "-- migrate:up\nCREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
          "email text, v text);\n"
          "INSERT INTO users (email, v) SELECT 'e' || g, 'v' || g FROM generate_series(1, " +
              std::to_string(kRows) + ") g;\n");
  // Updates write 'u<value>', inserts 'i<value>': each value is written once, so no two rows
  // share an email. The read checks both columns.
  App old_app(url(), "public",
              {"UPDATE users SET email = 'u' || $1::text, v = $1 WHERE id = $2",
               "SELECT v FROM users WHERE id = $1 AND email = 'u' || v",
               "INSERT INTO users (email, v) VALUES ('i' || $1::text, $1) RETURNING id",
               "SELECT * FROM users LIMIT 1"},
              1, kRows / 2);
  old_app.Start();
  old_app.WaitRounds(50);
  dir_.Write("db/migrations/2_unique.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE users ADD CONSTRAINT users_email_key "
             "UNIQUE (email);\n");
  auto plan = PlanJson("2", "add-unique");
  EXPECT_TRUE(plan["backfill"].is_null()) << plan.dump();
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(State("2"), "expanded");
  EXPECT_EQ(BackfillJobs("2"), "0");
  App new_app(
      url(), "public",
      {"UPDATE users SET email = 'u' || $1::text, v = $1 WHERE id = $2",
       "SELECT v FROM users WHERE id = $1 AND email = 'u' || v",
       "INSERT INTO users (email, v) VALUES ('i' || $1::text, $1) ON CONFLICT (email) DO UPDATE "
       "SET v = EXCLUDED.v RETURNING id",
       "SELECT * FROM users WHERE email = 'e1'"},
      kRows / 2 + 1, kRows);
  new_app.Start();
  new_app.WaitRounds(50);
  old_app.WaitRounds(50);
  // A duplicate is refused from the end of the expand on.
  EXPECT_EQ(SqlState("INSERT INTO users (email, v) SELECT email, 'dup' FROM users WHERE id = 1"),
            "23505");
  Complete("2");
  old_app.WaitRounds(50);
  new_app.WaitRounds(50);
  old_app.Stop();
  new_app.Stop();
  ExpectClean(old_app, "old app");
  ExpectClean(new_app, "new app");
  ExpectLastValues(old_app, "users", "v");
  ExpectLastValues(new_app, "users", "v");
  EXPECT_EQ(State("2"), "completed");
  EXPECT_EQ(QueryValue("SELECT pg_get_constraintdef(c.oid) || ' ' || c.convalidated || ' ' || "
                       "i.indisvalid || ' ' || (c.conindid = 'users_email_key'::regclass) FROM "
                       "pg_constraint c JOIN pg_index i ON i.indexrelid = c.conindid WHERE "
                       "c.conname = 'users_email_key' AND c.contype = 'u'"),
            "UNIQUE (email) true true true");
  EXPECT_EQ(QueryValue("SELECT count(DISTINCT email) = count(*) FROM users"), "t");
  EXPECT_EQ(SqlState("INSERT INTO users (email, v) SELECT email, 'dup' FROM users WHERE id = " +
                     std::to_string(kRows)),
            "23505");
  EXPECT_EQ(
      SqlState("UPDATE users SET email = (SELECT email FROM users WHERE id = 2) WHERE id = 3"),
      "23505");
}

// Add a check: NOT VALID (catalog only), then VALIDATE (a scan that blocks no writes), while both
// apps write values the check accepts.
TEST_F(ExpandOpsAppsTest, AddCheckOldAndNewAppTogetherZeroFailures) {
  Release("1_users.sql",
          "-- migrate:up\nCREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
          "name text NOT NULL DEFAULT 'x', n int);\n"
          "INSERT INTO users (name, n) SELECT 'u' || g, g FROM generate_series(1, " +
              std::to_string(kRows) + ") g;\n");
  AppSql sql{"UPDATE users SET n = $1 WHERE id = $2", "SELECT n FROM users WHERE id = $1",
             "INSERT INTO users (n) VALUES ($1) RETURNING id", "SELECT * FROM users LIMIT 1"};
  App old_app(url(), "public", sql, 1, kRows / 2);
  old_app.Start();
  old_app.WaitRounds(50);
  dir_.Write("db/migrations/2_check.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE users ADD CONSTRAINT users_n_positive "
             "CHECK (n > 0);\n");
  auto plan = PlanJson("2", "add-check");
  EXPECT_TRUE(plan["backfill"].is_null()) << plan.dump();
  // The new app starts with the deploy, before the release step has run.
  App new_app(url(), "public", sql, kRows / 2 + 1, kRows);
  new_app.Start();
  new_app.WaitRounds(50);
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(State("2"), "expanded");
  EXPECT_EQ(BackfillJobs("2"), "0");
  old_app.WaitRounds(50);
  new_app.WaitRounds(50);
  // A row the check rejects is refused from the expand on.
  EXPECT_EQ(SqlState("UPDATE users SET n = -1 WHERE id = 1"), "23514");
  Complete("2");
  old_app.WaitRounds(50);
  new_app.WaitRounds(50);
  old_app.Stop();
  new_app.Stop();
  ExpectClean(old_app, "old app");
  ExpectClean(new_app, "new app");
  ExpectLastValues(old_app, "users", "n");
  ExpectLastValues(new_app, "users", "n");
  EXPECT_EQ(State("2"), "completed");
  EXPECT_EQ(QueryValue("SELECT pg_get_constraintdef(oid) || ' ' || convalidated FROM "
                       "pg_constraint WHERE conname = 'users_n_positive' AND contype = 'c' AND "
                       "conrelid = 'users'::regclass"),
            "CHECK ((n > 0)) true");
  EXPECT_EQ(SqlState("INSERT INTO users (n) VALUES (0)"), "23514");
  EXPECT_EQ(SqlState("UPDATE users SET n = -5 WHERE id = " + std::to_string(kRows)), "23514");
}

// Add a column whose volatile default is computed for existing rows: the expand adds it with the
// default for new rows, the backfill fills the existing ones, the contract sets NOT NULL. The old
// app does not know the column (its inserts get the default); the new app reads and writes it.
TEST_F(ExpandOpsAppsTest, AddComputedColumnOldAndNewAppTogetherZeroFailures) {
  Release("1_users.sql",
          "-- migrate:up\nCREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
          "name text NOT NULL DEFAULT 'x', v text);\n"
          "INSERT INTO users (name, v) SELECT 'u' || g, 'v' || g FROM generate_series(1, " +
              std::to_string(kRows) + ") g;\n");
  App old_app(url(), "public",
              {"UPDATE users SET v = $1 WHERE id = $2", "SELECT v FROM users WHERE id = $1",
               "INSERT INTO users (v) VALUES ($1) RETURNING id", "SELECT * FROM users LIMIT 1"},
              1, kRows / 2);
  old_app.Start();
  old_app.WaitRounds(50);
  dir_.Write("db/migrations/2_token.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE users ADD COLUMN token uuid NOT NULL "
             "DEFAULT gen_random_uuid();\n");
  auto plan = PlanJson("2", "add-column");
  EXPECT_TRUE(plan["backfill"].is_object()) << plan.dump();
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(State("2"), "expanded");
  // The new app uses the column from the end of the expand: it rotates the token of the rows it
  // updates and reads it back; its inserts get the default.
  App new_app(url(), "public",
              {"UPDATE users SET v = $1, token = gen_random_uuid() WHERE id = $2",
               "SELECT v FROM users WHERE id = $1 AND token IS NOT NULL",
               "INSERT INTO users (v) VALUES ($1) RETURNING id",
               "SELECT id, token FROM users ORDER BY id DESC LIMIT 1"},
              kRows / 2 + 1, kRows);
  new_app.Start();
  new_app.WaitRounds(50);
  old_app.WaitRounds(50);
  Backfill("2");
  auto status = Tandem({"status"});
  EXPECT_NE(status.out.find("online: ready to complete"), std::string::npos) << status.out;
  old_app.WaitRounds(50);
  new_app.WaitRounds(50);
  Complete("2");
  old_app.WaitRounds(50);
  new_app.WaitRounds(50);
  old_app.Stop();
  new_app.Stop();
  ExpectClean(old_app, "old app");
  ExpectClean(new_app, "new app");
  ExpectLastValues(old_app, "users", "v");
  ExpectLastValues(new_app, "users", "v");
  EXPECT_EQ(State("2"), "completed");
  // Every row holds a value of its own: the seeded rows (backfill), the old app's inserts before
  // and during the expand (backfill, default), the new app's rows.
  EXPECT_EQ(QueryValue("SELECT count(*) FROM users WHERE token IS NULL"), "0");
  EXPECT_EQ(QueryValue("SELECT count(DISTINCT token) = count(*) FROM users"), "t");
  auto [old_inserts, old_inserted] = InsertedIds(old_app);
  ASSERT_GT(old_inserted, 0);
  EXPECT_EQ(QueryValue("SELECT count(*) FROM users WHERE id IN (" + old_inserts +
                       ") AND token IS NOT NULL"),
            std::to_string(old_inserted));
  EXPECT_EQ(QueryValue("SELECT format_type(atttypid, atttypmod) || ' ' || attnotnull || ' ' || "
                       "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a JOIN pg_attrdef d ON "
                       "d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE a.attrelid = "
                       "'users'::regclass AND a.attname = 'token'"),
            "uuid true gen_random_uuid()");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_constraint WHERE conrelid = 'users'::regclass "
                       "AND contype = 'c'"),
            "0");
  EXPECT_EQ(SqlState("INSERT INTO users (v, token) VALUES ('x', NULL)"), "23502");
  EXPECT_EQ(SqlState("UPDATE users SET token = NULL WHERE id = 1"), "23502");
}

// Drop a column: nothing at the expand; the old app keeps reading and writing it (an index on
// it too) until the contract drops it. The new app never names it; its SELECT * runs on through
// the drop.
TEST_F(ExpandOpsAppsTest, DropColumnOldAppUsesItUntilContractZeroFailures) {
  Release("1_users.sql",
          "-- migrate:up\nCREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
          "v text, legacy text NOT NULL DEFAULT '');\n"
          "CREATE INDEX users_legacy_idx ON users (legacy);\n"
          "INSERT INTO users (v, legacy) SELECT 'v' || g, 'l' || g FROM generate_series(1, " +
              std::to_string(kRows) + ") g;\n");
  App old_app(
      url(), "public",
      {"UPDATE users SET v = $1, legacy = $1 WHERE id = $2",
       "SELECT v FROM users WHERE id = $1 AND legacy = v",
       "INSERT INTO users (v, legacy) VALUES ($1, $1) RETURNING id", "SELECT * FROM users LIMIT 1"},
      1, kRows / 2);
  old_app.Start();
  old_app.WaitRounds(50);
  dir_.Write("db/migrations/2_drop.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE users DROP COLUMN legacy;\n");
  auto plan = PlanJson("2", "drop-column");
  EXPECT_TRUE(plan["expand"].empty()) << plan.dump();
  EXPECT_TRUE(plan["backfill"].is_null()) << plan.dump();
  EXPECT_FALSE(plan["contract"].empty()) << plan.dump();
  // The new app does not use the column: it starts with the deploy, before the release step.
  App new_app(url(), "public",
              {"UPDATE users SET v = $1 WHERE id = $2", "SELECT v FROM users WHERE id = $1",
               "INSERT INTO users (v) VALUES ($1) RETURNING id", "SELECT * FROM users LIMIT 1"},
              kRows / 2 + 1, kRows);
  new_app.Start();
  new_app.WaitRounds(50);
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(State("2"), "expanded");
  EXPECT_EQ(BackfillJobs("2"), "0");
  old_app.WaitRounds(50);
  new_app.WaitRounds(50);
  // The old app is gone before the contract; until then its writes reached the column.
  old_app.Stop();
  ExpectLastValues(old_app, "users", "legacy");
  Complete("2");
  new_app.WaitRounds(50);
  new_app.Stop();
  ExpectClean(old_app, "old app");
  ExpectClean(new_app, "new app");
  ExpectLastValues(old_app, "users", "v");
  ExpectLastValues(new_app, "users", "v");
  EXPECT_EQ(State("2"), "completed");
  EXPECT_EQ(QueryValue("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE "
                       "attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped"),
            "id,v");
  EXPECT_EQ(QueryValue("SELECT to_regclass('users_legacy_idx') IS NULL"), "t");
  EXPECT_EQ(SqlState("SELECT legacy FROM users LIMIT 1"), "42703");
}

// Drop a table: nothing at the expand; the old app keeps using it (reading it with the table its
// foreign key references, which the new app writes) until the contract drops it.
TEST_F(ExpandOpsAppsTest, DropTableOldAppUsesItUntilContractZeroFailures) {
  Release("1_tables.sql",
          "-- migrate:up\nCREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
          "v text);\n"
          "CREATE TABLE old_things (id bigserial PRIMARY KEY, user_id bigint REFERENCES users "
          "(id), v text);\n"
          "INSERT INTO users (v) SELECT 'u' || g FROM generate_series(1, " +
              std::to_string(kRows) +
              ") g;\n"
              "INSERT INTO old_things (user_id, v) SELECT g, 'o' || g FROM generate_series(1, " +
              std::to_string(kRows) + ") g;\n");
  App old_app(url(), "public",
              {"UPDATE old_things SET v = $1 WHERE id = $2",
               "SELECT o.v FROM old_things o JOIN users u ON u.id = o.user_id WHERE o.id = $1",
               "INSERT INTO old_things (user_id, v) VALUES (1, $1) RETURNING id",
               "SELECT * FROM old_things LIMIT 1"},
              1, kRows / 2);
  old_app.Start();
  old_app.WaitRounds(50);
  dir_.Write("db/migrations/2_drop.sql",
             "-- tandem:online\n-- migrate:up\nDROP TABLE old_things;\n");
  auto plan = PlanJson("2", "drop-table");
  EXPECT_TRUE(plan["expand"].empty()) << plan.dump();
  EXPECT_TRUE(plan["backfill"].is_null()) << plan.dump();
  EXPECT_FALSE(plan["contract"].empty()) << plan.dump();
  // The new app does not use old_things: it starts with the deploy, before the release step.
  App new_app(url(), "public",
              {"UPDATE users SET v = $1 WHERE id = $2", "SELECT v FROM users WHERE id = $1",
               "INSERT INTO users (v) VALUES ($1) RETURNING id", "SELECT * FROM users LIMIT 1"},
              kRows / 2 + 1, kRows);
  new_app.Start();
  new_app.WaitRounds(50);
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(State("2"), "expanded");
  EXPECT_EQ(BackfillJobs("2"), "0");
  old_app.WaitRounds(50);
  new_app.WaitRounds(50);
  old_app.Stop();
  ExpectLastValues(old_app, "old_things", "v");
  // The drop also locks users (the foreign key's trigger there) while the new app writes it.
  Complete("2");
  new_app.WaitRounds(50);
  new_app.Stop();
  ExpectClean(old_app, "old app");
  ExpectClean(new_app, "new app");
  ExpectLastValues(new_app, "users", "v");
  EXPECT_EQ(State("2"), "completed");
  EXPECT_EQ(QueryValue("SELECT to_regclass('old_things') IS NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT to_regclass('old_things_id_seq') IS NULL"), "t");
  EXPECT_EQ(SqlState("SELECT count(*) FROM old_things"), "42P01");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_constraint WHERE confrelid = 'users'::regclass"),
            "0");
}

}  // namespace
}  // namespace tandem::testing
