// Online (expand/contract) migrations against the real server, through the real binary: per
// operation, the old app and the new app write and read their own names on their own
// connections while `tandem release` expands, `tandem jobs finalize` backfills and
// `tandem complete --now` contracts: no query fails, and every row ends with the last value
// its app wrote. Then kill -9 at every step boundary and a rerun, and abort from every state.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "expand/apps_test_util.h"
#include "expand/online_test_util.h"
#include "expand/plan.h"
#include "testing/harness.h"
#include "testing/project_test.h"

namespace tandem::testing {
namespace {

using expand::testing::App;
using expand::testing::AppSql;

constexpr int kRows = 2000;

class ExpandTest : public OnlineTest {
 protected:
  void Run(const std::string& sql) {
    Status status = Connect()->Exec(sql);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }
  std::string JobId(const std::string& version) {
    return QueryValue(
        "SELECT coalesce(max(id), 0) FROM tandem.jobs WHERE kind = 'background' AND "
        "version = '" +
        version + "'");
  }
  // The table's shape and rows, to compare before and after an abort.
  std::string Snapshot(const std::string& table) {
    return QueryValue(
               "SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod) || ':' || "
               "attnotnull, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '" +
               table + "'::regclass AND attnum > 0 AND NOT attisdropped") +
           "|" +
           QueryValue(
               "SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint "
               "WHERE conrelid = '" +
               table + "'::regclass") +
           "|" +
           QueryValue(
               "SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY 1) FROM "
               "pg_index WHERE indrelid = '" +
               table + "'::regclass") +
           "|" +
           QueryValue("SELECT count(*) FROM pg_trigger WHERE tgrelid = '" + table +
                      "'::regclass AND NOT tgisinternal") +
           "|" +
           QueryValue("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM " + table + " t");
  }
};

constexpr char kRenameColumn[] =
    "-- tandem:online\n-- migrate:up\nALTER TABLE users RENAME COLUMN name TO full_name;\n";

TEST_F(ExpandTest, RenameColumnOldAndNewAppTogetherZeroFailures) {
  UsersTable();
  App old_app(url(), "public",
              {"UPDATE users SET name = $1 WHERE id = $2", "SELECT name FROM users WHERE id = $1",
               "INSERT INTO users (name) VALUES ($1) RETURNING id", "SELECT * FROM users LIMIT 1"},
              1, kRows / 2);
  old_app.Start();
  old_app.WaitRounds(50);
  dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(State("2"), "expanded");
  App new_app(
      url(), "public",
      {"UPDATE users SET full_name = $1 WHERE id = $2", "SELECT full_name FROM users WHERE id = $1",
       "INSERT INTO users (full_name) VALUES ($1) RETURNING id", "SELECT * FROM users LIMIT 1"},
      kRows / 2 + 1, kRows);
  new_app.Start();
  new_app.WaitRounds(50);
  old_app.WaitRounds(50);
  auto status = Tandem({"status"});
  EXPECT_NE(status.out.find("online: backfilling (job"), std::string::npos)
      << status.out << status.err;
  Backfill("2");
  status = Tandem({"status"});
  EXPECT_NE(status.out.find("online: ready to complete"), std::string::npos) << status.out;
  // The old app's writes reached full_name, the new app's reached name.
  EXPECT_EQ(QueryValue("SELECT count(*) FROM users WHERE full_name IS DISTINCT FROM name"), "0");
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
  // Carried over: NOT NULL, the default, the comment, the index under its own name.
  EXPECT_EQ(QueryValue("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass "
                       "AND attname = 'full_name'"),
            "t");
  EXPECT_EQ(QueryValue("SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef d JOIN pg_attribute a "
                       "ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = "
                       "'users'::regclass AND a.attname = 'full_name'"),
            "'x'::text");
  EXPECT_EQ(QueryValue("SELECT col_description('users'::regclass, (SELECT attnum FROM "
                       "pg_attribute WHERE attrelid = 'users'::regclass AND attname = "
                       "'full_name'))"),
            "the user's name");
  EXPECT_EQ(QueryValue("SELECT indexdef FROM pg_indexes WHERE indexname = 'users_name_idx'"),
            "CREATE INDEX users_name_idx ON public.users USING btree (full_name)");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_attribute WHERE attrelid = 'users'::regclass AND "
                       "attname = 'name' AND NOT attisdropped"),
            "0");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT "
                       "tgisinternal"),
            "0");
  // Completing again changes nothing.
  Complete("2");
}

TEST_F(ExpandTest, RenameTableOldNameIsAnUpdatableViewUntilContract) {
  Release("1_t.sql",
          "-- migrate:up\nCREATE TABLE accounts (id bigserial PRIMARY KEY, v text NOT NULL DEFAULT "
          "'d');\nINSERT INTO accounts (v) SELECT 'a' || g FROM generate_series(1, " +
              std::to_string(kRows) + ") g;\n");
  App old_app(
      url(), "public",
      {"UPDATE accounts SET v = $1 WHERE id = $2", "SELECT v FROM accounts WHERE id = $1",
       "INSERT INTO accounts (v) VALUES ($1) RETURNING id", "SELECT * FROM accounts LIMIT 1"},
      1, kRows / 2);
  old_app.Start();
  old_app.WaitRounds(50);
  dir_.Write("db/migrations/2_rename.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE accounts RENAME TO customers;\n");
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  App new_app(
      url(), "public",
      {"UPDATE customers SET v = $1 WHERE id = $2", "SELECT v FROM customers WHERE id = $1",
       "INSERT INTO customers (v) VALUES ($1) RETURNING id", "SELECT * FROM customers LIMIT 1"},
      kRows / 2 + 1, kRows);
  new_app.Start();
  new_app.WaitRounds(50);
  old_app.WaitRounds(50);
  // No backfill: ready at once. A default of the table applies to inserts through the view.
  EXPECT_EQ(JobId("2"), "0");
  EXPECT_EQ(QueryValue("INSERT INTO accounts DEFAULT VALUES RETURNING v"), "d");
  old_app.Stop();
  Complete("2");
  new_app.WaitRounds(50);
  new_app.Stop();
  ExpectClean(old_app, "old app");
  ExpectClean(new_app, "new app");
  ExpectLastValues(old_app, "customers", "v");
  ExpectLastValues(new_app, "customers", "v");
  EXPECT_EQ(QueryValue("SELECT to_regclass('accounts') IS NULL"), "t");
}

TEST_F(ExpandTest, SetNotNullWhileBothAppsWrite) {
  UsersTable();
  App old_app(url(), "public",
              {"UPDATE users SET n = $1 WHERE id = $2", "SELECT n FROM users WHERE id = $1",
               "INSERT INTO users (n) VALUES ($1) RETURNING id", "SELECT * FROM users LIMIT 1"},
              1, kRows);
  old_app.Start();
  old_app.WaitRounds(50);
  dir_.Write("db/migrations/2_nn.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE users ALTER COLUMN n SET NOT NULL;\n");
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  old_app.WaitRounds(50);
  old_app.Stop();
  ExpectClean(old_app, "app");
  ExpectLastValues(old_app, "users", "n");
  EXPECT_EQ(QueryValue("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass "
                       "AND attname = 'n'"),
            "t");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_constraint WHERE conrelid = 'users'::regclass "
                       "AND contype = 'c'"),
            "0");
  Complete("2");
  EXPECT_EQ(State("2"), "completed");
}

TEST_F(ExpandTest, AddForeignKeyNotValidThenValidated) {
  UsersTable();
  Release("2_orders.sql",
          "-- migrate:up\nCREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint, v text);\n"
          "INSERT INTO orders (user_id, v) SELECT g, 'o' FROM generate_series(1, 1000) g;\n");
  App app(url(), "public",
          {"UPDATE orders SET v = $1 WHERE id = $2", "SELECT v FROM orders WHERE id = $1",
           "INSERT INTO orders (user_id, v) VALUES (1, $1) RETURNING id",
           "SELECT * FROM orders LIMIT 1"},
          1, 1000);
  app.Start();
  app.WaitRounds(50);
  dir_.Write("db/migrations/3_fk.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE orders ADD CONSTRAINT orders_user_fk "
             "FOREIGN KEY (user_id) REFERENCES users (id);\n");
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  app.WaitRounds(50);
  app.Stop();
  ExpectClean(app, "app");
  ExpectLastValues(app, "orders", "v");
  EXPECT_EQ(QueryValue("SELECT convalidated FROM pg_constraint WHERE conname = 'orders_user_fk'"),
            "t");
}

TEST_F(ExpandTest, ChangeTypeNewAppThroughItsSearchPath) {
  Release("1_items.sql",
          "-- migrate:up\nCREATE TABLE items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
          "price text NOT NULL DEFAULT '0');\nINSERT INTO items (price) SELECT g::text FROM "
          "generate_series(1, " +
              std::to_string(kRows) + ") g;\n");
  // Without the reverse expression the plan is refused, naming the directive.
  dir_.Write("db/migrations/2_type.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE items ALTER COLUMN price TYPE bigint "
             "USING trim(price)::bigint;\n");
  auto refused = Tandem({"plan", "2"});
  EXPECT_EQ(refused.exit_code, 2) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("tandem:down-expression"), std::string::npos) << refused.err;
  dir_.Write("db/migrations/2_type.sql",
             "-- tandem:online\n-- tandem:down-expression price::text\n-- migrate:up\nALTER TABLE "
             "items ALTER COLUMN price TYPE bigint USING trim(price)::bigint;\n");
  auto plan = Tandem({"--format", "json", "plan", "2"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  std::string search_path = nlohmann::json::parse(plan.out)["new_app_search_path"];
  EXPECT_EQ(search_path, "\"tandem_v2\", \"public\"");
  App old_app(url(), "public",
              {"UPDATE items SET price = $1 WHERE id = $2", "SELECT price FROM items WHERE id = $1",
               "INSERT INTO items (price) VALUES ($1) RETURNING id", "SELECT * FROM items LIMIT 1"},
              1, kRows / 2);
  old_app.Start();
  old_app.WaitRounds(50);
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  App new_app(
      url(), search_path,
      {"UPDATE items SET price = $1::bigint WHERE id = $2",
       "SELECT price FROM items WHERE id = $1 AND pg_typeof(price) = 'bigint'::regtype",
       "INSERT INTO items (price) VALUES ($1::bigint) RETURNING id", "SELECT * FROM items LIMIT 1"},
      kRows / 2 + 1, kRows);
  new_app.Start();
  new_app.WaitRounds(50);
  Backfill("2");
  old_app.WaitRounds(50);
  old_app.Stop();
  Complete("2");
  new_app.WaitRounds(50);
  new_app.Stop();
  ExpectClean(old_app, "old app");
  ExpectClean(new_app, "new app");
  ExpectLastValues(old_app, "items", "price");
  ExpectLastValues(new_app, "items", "price");
  EXPECT_EQ(QueryValue("SELECT format_type(atttypid, atttypmod) || ' ' || attnotnull FROM "
                       "pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'price'"),
            "bigint true");
  EXPECT_EQ(QueryValue("SELECT to_regnamespace('tandem_v2') IS NULL"), "t");
}

TEST_F(ExpandTest, PlanShowsStepsLocksAndNoSearchPathForARename) {
  UsersTable();
  dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
  auto text = Tandem({"plan", "2"});
  ASSERT_EQ(text.exit_code, 0) << text.out << text.err;
  EXPECT_NE(text.out.find("expand (tandem release):"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("ACCESS EXCLUSIVE on \"public\".\"users\", catalog only"),
            std::string::npos);
  EXPECT_NE(text.out.find("new app search_path: none needed"), std::string::npos);
  auto json = Tandem({"--format", "json", "plan", "db/migrations/2_rename.sql"});
  ASSERT_EQ(json.exit_code, 0) << json.out << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_TRUE(j["new_app_search_path"].is_null());
  EXPECT_EQ(j["state"], "not released");
  EXPECT_EQ(j["operations"][0]["kind"], "rename-column");
  EXPECT_NE(j["backfill"]["sql"].get<std::string>().find("ctid >= :batch_start"),
            std::string::npos);
  // Nothing changed.
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.online_migrations"), "0");
}

// kill -9 right after each step is recorded, then the same command again: the end state is
// the same as without the kill.
TEST_F(ExpandTest, Kill9AtEveryStepBoundaryThenRerunFinishes) {
  UsersTable();
  dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
  auto plan = nlohmann::json::parse(Tandem({"--format", "json", "plan", "2"}).out);
  int expand_steps = static_cast<int>(plan["expand"].size());
  int contract_steps = static_cast<int>(plan["contract"].size());
  ASSERT_GE(expand_steps, 1);
  ASSERT_GE(contract_steps, 2);
  for (int i = 1; i <= expand_steps; ++i) {
    auto killed = Tandem({"release"}, {"TANDEM_TEST_KILL_AFTER=expand:" + std::to_string(i)});
    EXPECT_EQ(killed.exit_code, 128 + 9) << killed.out << killed.err;
  }
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(State("2"), "expanded");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.jobs WHERE version = '2'"), "1");
  Backfill("2");
  for (int i = 1; i <= contract_steps; ++i) {
    auto killed = Tandem({"complete", "2", "--now"},
                         {"TANDEM_TEST_KILL_AFTER=contract:" + std::to_string(i)});
    EXPECT_EQ(killed.exit_code, 128 + 9) << killed.out << killed.err;
  }
  Complete("2");
  EXPECT_EQ(State("2"), "completed");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM users WHERE full_name = 'u' || n"),
            std::to_string(kRows));
  EXPECT_EQ(QueryValue("SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE "
                       "attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped"),
            "id,n,full_name");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_index WHERE indrelid = 'users'::regclass AND NOT "
                       "indisvalid"),
            "0");
}

// Abort from each state before completion leaves the table as it was: shape, constraints,
// indexes, triggers and every row.
TEST_F(ExpandTest, AbortFromEveryStateRestoresSchemaAndRows) {
  UsersTable();
  std::string before = Snapshot("users");
  dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
  // 1. Expanded, backfill queued (not run).
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  auto aborted = Tandem({"abort", "2"});
  ASSERT_EQ(aborted.exit_code, 0) << aborted.out << aborted.err;
  EXPECT_EQ(Snapshot("users"), before);
  EXPECT_EQ(State("2"), "aborted");
  EXPECT_EQ(QueryValue("SELECT status FROM tandem.jobs WHERE version = '2'"), "cancelled");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.migrations WHERE version = '2'"), "0");
  // Aborting again changes nothing.
  EXPECT_EQ(Tandem({"abort", "2"}).exit_code, 0);
}

TEST_F(ExpandTest, AbortAfterBackfillRestoresRowsWrittenThroughTheNewName) {
  UsersTable();
  std::string before = Snapshot("users");
  // Backfilled, ready to complete: abort still restores everything (rows written through the
  // new name while expanded are kept in the old column).
  dir_.Write("db/migrations/3_rename.sql", kRenameColumn);
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  Backfill("3");
  Run("UPDATE users SET full_name = 'new' WHERE id = 1");
  ASSERT_EQ(Tandem({"abort", "3"}).exit_code, 0);
  EXPECT_EQ(QueryValue("SELECT name FROM users WHERE id = 1"), "new");
  Run("UPDATE users SET name = 'u1' WHERE id = 1");
  EXPECT_EQ(Snapshot("users"), before);
  // Released again under the same version, its cancelled backfill job could not be reused:
  // refused, naming the job.
  auto again = Tandem({"release"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("releasing it again is not supported"), std::string::npos) << again.err;
  std::filesystem::remove(dir_.path() / "db/migrations/3_rename.sql");
  // Completed: abort is refused.
  dir_.Write("db/migrations/4_nn.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE users ALTER COLUMN n SET NOT NULL;\n");
  ASSERT_EQ(Tandem({"release"}).exit_code, 0);
  Complete("4");
  auto refused = Tandem({"abort", "4"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("is completed"), std::string::npos) << refused.err;
}

TEST_F(ExpandTest, FailedStepIsNamedByStatusAndAbortUndoesIt) {
  UsersTable();
  Run("UPDATE users SET n = NULL WHERE id = 5");
  std::string before = Snapshot("users");
  dir_.Write("db/migrations/2_nn.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE users ALTER COLUMN n SET NOT NULL;\n");
  auto failed = Tandem({"release"});
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_NE(failed.err.find("failed at expand step 2 of 3"), std::string::npos) << failed.err;
  auto status = Tandem({"status"});
  EXPECT_NE(status.out.find("online: failed at expand step 2"), std::string::npos)
      << status.exit_code << status.out << status.err;
  ASSERT_EQ(Tandem({"abort", "2"}).exit_code, 0);
  EXPECT_EQ(Snapshot("users"), before);
}

// Two operations planned together: a unique constraint (index built concurrently, then USING
// INDEX) and a column whose volatile default is computed for existing rows by the backfill.
TEST_F(ExpandTest, UniqueConstraintAndComputedColumnInOneMigration) {
  UsersTable();
  dir_.Write("db/migrations/2_two.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE users ADD CONSTRAINT users_n_key "
             "UNIQUE (n);\nALTER TABLE users ADD COLUMN token uuid NOT NULL DEFAULT "
             "gen_random_uuid();\n");
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(QueryValue("SELECT contype FROM pg_constraint WHERE conname = 'users_n_key'"), "u");
  // New rows get the default at once; existing ones from the backfill.
  EXPECT_EQ(QueryValue("INSERT INTO users (name) VALUES ('z') RETURNING token IS NOT NULL"), "t");
  Backfill("2");
  Complete("2");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM users WHERE token IS NULL"), "0");
  EXPECT_EQ(QueryValue("SELECT count(DISTINCT token) = count(*) FROM users"), "t");
  EXPECT_EQ(QueryValue("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass "
                       "AND attname = 'token'"),
            "t");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_constraint WHERE conrelid = 'users'::regclass "
                       "AND contype = 'c'"),
            "0");
}

TEST(QualifyColumns, PrefixesColumnsButNotFunctionsTypesOrLiterals) {
  EXPECT_EQ(expand::QualifyColumns("trim(price)::bigint", {"price"}, "NEW"),
            "trim(NEW.\"price\")::bigint");
  EXPECT_EQ(expand::QualifyColumns("price || 'price' || \"price\"", {"price"}, "NEW"),
            "NEW.\"price\" || 'price' || NEW.\"price\"");
  EXPECT_EQ(expand::QualifyColumns("t.price + price::price", {"price"}, "NEW"),
            "t.price + NEW.\"price\"::price");
}

TEST(PlanJson, RoundTripKeepsEveryField) {
  expand::Plan plan;
  plan.version = "7";
  plan.name = "rename";
  plan.operations.push_back({"ALTER TABLE t RENAME COLUMN a TO b", "rename-column", "o", "n"});
  expand::Step step;
  step.name = "build";
  step.sql = {"CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (b)"};
  step.transactional = false;
  step.scan = true;
  step.index = "\"public\".\"i\"";
  step.undo = {"DROP INDEX CONCURRENTLY IF EXISTS i"};
  step.undo_transactional = false;
  plan.contract.push_back(step);
  plan.backfill = expand::Backfill{"t", "UPDATE t SET b = a WHERE ctid >= :batch_start"};
  plan.new_app_search_path = "\"tandem_v7\", \"public\"";
  auto back = expand::PlanFromJson(expand::PlanToJson(plan));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(expand::PlanToJson(*back), expand::PlanToJson(plan));
  EXPECT_FALSE(back->contract[0].transactional);
  EXPECT_EQ(back->contract[0].index, step.index);
  EXPECT_FALSE(expand::PlanFromJson("not json").ok());
}

}  // namespace
}  // namespace tandem::testing
