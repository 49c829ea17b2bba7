// The old app and the new app together, through the real binary, for the operations whose
// first tests had one client: set NOT NULL and add a foreign key. Neither renames anything, so
// both apps use the same names; each writes and reads its own half of the rows (and inserts)
// while `tandem release` expands and `tandem complete --now` contracts: zero failed queries,
// and every row ends with the last value its app wrote.
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

class ExpandAppsTest : public OnlineTest {
 protected:
  void UsersTable() {
    Release("1_users.sql",
            "-- migrate:up\nCREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY "
            "KEY, name text NOT NULL DEFAULT 'x', n int);\n"
            "INSERT INTO users (name, n) SELECT 'u' || g, g FROM generate_series(1, " +
                std::to_string(kRows) + ") g;\n");
  }
};

TEST_F(ExpandAppsTest, SetNotNullOldAndNewAppTogetherZeroFailures) {
  UsersTable();
  AppSql sql{"UPDATE users SET n = $1 WHERE id = $2", "SELECT n FROM users WHERE id = $1",
             "INSERT INTO users (n) VALUES ($1) RETURNING id", "SELECT * FROM users LIMIT 1"};
  App old_app(url(), "public", sql, 1, kRows / 2);
  old_app.Start();
  old_app.WaitRounds(50);
  dir_.Write("db/migrations/2_nn.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE users ALTER COLUMN n SET NOT NULL;\n");
  auto plan = Tandem({"--format", "json", "plan", "2"});
  ASSERT_EQ(plan.exit_code, 0) << plan.out << plan.err;
  EXPECT_TRUE(nlohmann::json::parse(plan.out)["new_app_search_path"].is_null()) << plan.out;
  // The new app starts with the deploy, before the release step has run.
  App new_app(url(), "public", sql, kRows / 2 + 1, kRows);
  new_app.Start();
  new_app.WaitRounds(50);
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(State("2"), "expanded");
  old_app.WaitRounds(50);
  new_app.WaitRounds(50);
  // Writing NULL is refused from now on, for both apps, as the migration intends.
  EXPECT_EQ(SqlState("UPDATE users SET n = NULL WHERE id = 1"), "23502");
  old_app.Stop();
  Complete("2");
  new_app.WaitRounds(50);
  new_app.Stop();
  ExpectClean(old_app, "old app");
  ExpectClean(new_app, "new app");
  ExpectLastValues(old_app, "users", "n");
  ExpectLastValues(new_app, "users", "n");
  EXPECT_EQ(State("2"), "completed");
  EXPECT_EQ(QueryValue("SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass "
                       "AND attname = 'n'"),
            "t");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_constraint WHERE conrelid = 'users'::regclass "
                       "AND contype = 'c'"),
            "0");
}

TEST_F(ExpandAppsTest, AddForeignKeyOldAndNewAppTogetherZeroFailures) {
  UsersTable();
  Release("2_orders.sql",
          "-- migrate:up\nCREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint, v text);\n"
          "INSERT INTO orders (user_id, v) SELECT g, 'o' FROM generate_series(1, " +
              std::to_string(kRows) + ") g;\n");
  // The old app inserts orders of user 1, the new app of user 2; both update their own rows.
  App old_app(url(), "public",
              {"UPDATE orders SET v = $1 WHERE id = $2", "SELECT v FROM orders WHERE id = $1",
               "INSERT INTO orders (user_id, v) VALUES (1, $1) RETURNING id",
               "SELECT * FROM orders LIMIT 1"},
              1, kRows / 2);
  old_app.Start();
  old_app.WaitRounds(50);
  dir_.Write("db/migrations/3_fk.sql",
             "-- tandem:online\n-- migrate:up\nALTER TABLE orders ADD CONSTRAINT orders_user_fk "
             "FOREIGN KEY (user_id) REFERENCES users (id);\n");
  App new_app(
      url(), "public",
      {"UPDATE orders SET v = $1, user_id = 2 WHERE id = $2", "SELECT v FROM orders WHERE id = $1",
       "INSERT INTO orders (user_id, v) VALUES (2, $1) RETURNING id",
       "SELECT * FROM orders o JOIN users u ON u.id = o.user_id LIMIT 1"},
      kRows / 2 + 1, kRows);
  new_app.Start();
  new_app.WaitRounds(50);
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(State("3"), "expanded");
  old_app.WaitRounds(50);
  new_app.WaitRounds(50);
  old_app.Stop();
  Complete("3");
  new_app.WaitRounds(50);
  new_app.Stop();
  ExpectClean(old_app, "old app");
  ExpectClean(new_app, "new app");
  ExpectLastValues(old_app, "orders", "v");
  ExpectLastValues(new_app, "orders", "v");
  EXPECT_EQ(State("3"), "completed");
  EXPECT_EQ(QueryValue("SELECT convalidated FROM pg_constraint WHERE conname = 'orders_user_fk'"),
            "t");
  // The constraint is in force: an order of a user that does not exist is refused.
  EXPECT_EQ(SqlState("INSERT INTO orders (user_id, v) VALUES (999999999, 'x')"), "23503");
}

}  // namespace
}  // namespace tandem::testing
