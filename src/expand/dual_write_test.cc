// The dual-write trigger against the real server: writes through the old and the new column,
// NULLs, no-op updates, the backfill's own writes, type-changing pairs, identity keys, tables
// without a key, odd identifiers, idempotent create and drop.
#include "expand/dual_write.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/harness.h"

namespace tandem::expand {
namespace {

class DualWriteTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    db_ = Connect();
  }

  void Exec(const std::string& sql) {
    Status status = db_->Exec(sql);
    ASSERT_TRUE(status.ok()) << sql << "\n" << status.ToString();
  }
  void ExecAll(const std::vector<std::string>& statements) {
    ASSERT_FALSE(statements.empty());
    for (const std::string& sql : statements) Exec(sql);
  }
  // Every row of `sql`, columns joined by '|', NULL as "<null>".
  std::vector<std::string> Rows(const std::string& sql) {
    auto result = db_->Query(sql);
    EXPECT_TRUE(result.ok()) << sql << "\n" << result.status().ToString();
    std::vector<std::string> rows;
    if (!result.ok()) return rows;
    for (size_t r = 0; r < result->rows(); ++r) {
      std::string row;
      for (size_t c = 0; c < result->columns(); ++c) {
        if (c) row += "|";
        row += result->IsNull(r, c) ? "<null>" : result->Get(r, c);
      }
      rows.push_back(row);
    }
    return rows;
  }
  std::string One(const std::string& sql) {
    std::vector<std::string> rows = Rows(sql);
    return rows.empty() ? "<none>" : rows[0];
  }

  // users(id, name, _tandem_full_name, email): the rename of name to full_name, mid-expand.
  DualWriteSpec RenameSpec() {
    DualWriteSpec spec;
    spec.schema = "public";
    spec.table = "users";
    spec.trigger_name = "_tandem_dw_users";
    spec.function_name = "_tandem_dw_users";
    spec.columns.push_back(
        {"name", "_tandem_full_name", "NEW.\"name\"", "NEW.\"_tandem_full_name\""});
    return spec;
  }
  void CreateUsers(const std::string& key = "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY") {
    Exec("CREATE TABLE users (" + key + ", name text, _tandem_full_name text, email text)");
    ExecAll(CreateDualWriteSql(RenameSpec()));
  }
  // Calls of the trigger function in the current transaction (track_functions = pl).
  long long FunctionCalls() {
    auto result = db_->Query(
        "SELECT coalesce(pg_stat_get_xact_function_calls('public._tandem_dw_users'::regproc), 0)");
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? result->GetInt(0, 0) : -1;
  }

  std::unique_ptr<pg::Connection> db_;
};

TEST_F(DualWriteTest, InsertThroughEitherNameFillsTheOther) {
  CreateUsers();
  Exec("INSERT INTO users (name) VALUES ('ada')");
  Exec("INSERT INTO users (_tandem_full_name) VALUES ('grace')");
  Exec("INSERT INTO users (name, _tandem_full_name) VALUES ('same', 'same')");
  EXPECT_EQ(Rows("SELECT name, _tandem_full_name FROM users ORDER BY id"),
            (std::vector<std::string>{"ada|ada", "grace|grace", "same|same"}));
}

TEST_F(DualWriteTest, InsertGivingBothSidesDifferentValuesKeepsTheNewSide) {
  CreateUsers();
  Exec("INSERT INTO users (name, _tandem_full_name) VALUES ('old', 'new')");
  EXPECT_EQ(One("SELECT name, _tandem_full_name FROM users"), "new|new");
}

TEST_F(DualWriteTest, UpdateThroughEitherNameCopiesToTheOther) {
  CreateUsers();
  Exec("INSERT INTO users (name) VALUES ('ada')");
  Exec("UPDATE users SET name = 'ada lovelace'");
  EXPECT_EQ(One("SELECT name, _tandem_full_name FROM users"), "ada lovelace|ada lovelace");
  Exec("UPDATE users SET _tandem_full_name = 'countess'");
  EXPECT_EQ(One("SELECT name, _tandem_full_name FROM users"), "countess|countess");
  Exec("UPDATE users SET name = 'x', _tandem_full_name = 'y'");  // both changed: new side wins
  EXPECT_EQ(One("SELECT name, _tandem_full_name FROM users"), "y|y");
}

TEST_F(DualWriteTest, NullsAreCopiedLikeValues) {
  CreateUsers();
  Exec("INSERT INTO users (name) VALUES (NULL)");
  EXPECT_EQ(One("SELECT name, _tandem_full_name FROM users"), "<null>|<null>");
  Exec("UPDATE users SET name = 'a'");
  Exec("UPDATE users SET name = NULL");
  EXPECT_EQ(One("SELECT name, _tandem_full_name FROM users"), "<null>|<null>");
  Exec("UPDATE users SET _tandem_full_name = 'b'");
  EXPECT_EQ(One("SELECT name, _tandem_full_name FROM users"), "b|b");
  Exec("UPDATE users SET _tandem_full_name = NULL");
  EXPECT_EQ(One("SELECT name, _tandem_full_name FROM users"), "<null>|<null>");
}

TEST_F(DualWriteTest, NoOpUpdateChangesNothing) {
  CreateUsers();
  Exec("INSERT INTO users (name) VALUES ('ada')");
  // A row the trigger never saw (written before it existed): old and new disagree.
  Exec("ALTER TABLE users DISABLE TRIGGER _tandem_dw_users");
  Exec("UPDATE users SET _tandem_full_name = 'stale'");
  Exec("ALTER TABLE users ENABLE TRIGGER _tandem_dw_users");
  Exec("UPDATE users SET name = name");
  Exec("UPDATE users SET _tandem_full_name = _tandem_full_name");
  EXPECT_EQ(One("SELECT name, _tandem_full_name FROM users"), "ada|stale");
}

TEST_F(DualWriteTest, UpdatesOfOtherColumnsNeverCallTheFunction) {
  CreateUsers();
  Exec("INSERT INTO users (name) VALUES ('ada')");
  Exec("SET track_functions = 'pl'");
  Exec("BEGIN");
  Exec("UPDATE users SET email = 'ada@example.com'");
  EXPECT_EQ(FunctionCalls(), 0);
  Exec("UPDATE users SET name = 'ada l'");
  EXPECT_EQ(FunctionCalls(), 1);
  Exec("COMMIT");
  EXPECT_EQ(One("SELECT name, _tandem_full_name, email FROM users"), "ada l|ada l|ada@example.com");
}

TEST_F(DualWriteTest, TypeChangingPairConvertsBothWays) {
  Exec("CREATE TABLE items (id int PRIMARY KEY, price text, _tandem_price numeric)");
  DualWriteSpec spec{"public", "items", "_tandem_dw_items", "_tandem_dw_items", {}};
  spec.columns.push_back(
      {"price", "_tandem_price", "(NEW.\"price\")::numeric", "(NEW.\"_tandem_price\")::text"});
  ExecAll(CreateDualWriteSql(spec));
  Exec("INSERT INTO items (id, price) VALUES (1, '1.50')");
  Exec("INSERT INTO items (id, _tandem_price) VALUES (2, 2.25)");
  EXPECT_EQ(Rows("SELECT price, _tandem_price FROM items ORDER BY id"),
            (std::vector<std::string>{"1.50|1.50", "2.25|2.25"}));
  Exec("UPDATE items SET _tandem_price = 3 WHERE id = 1");
  EXPECT_EQ(One("SELECT price, _tandem_price FROM items WHERE id = 1"), "3|3");
  // An old value the forward expression rejects fails the old app's write, as the USING would.
  Status bad = db_->Exec("UPDATE items SET price = 'cheap' WHERE id = 2");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.sqlstate(), "22P02") << bad.ToString();
}

TEST_F(DualWriteTest, BackfillWriteLeavesTheOldColumnAlone) {
  Exec("CREATE TABLE items (id int PRIMARY KEY, qty text, _tandem_qty int)");
  Exec("INSERT INTO items VALUES (1, ' 12', NULL), (2, NULL, NULL)");  // rows before expand
  DualWriteSpec spec{"public", "items", "_tandem_dw_items", "_tandem_dw_items", {}};
  spec.columns.push_back(
      {"qty", "_tandem_qty", "(NEW.\"qty\")::int", "(NEW.\"_tandem_qty\")::text"});
  ExecAll(CreateDualWriteSql(spec));
  // The backfill's statement: new = forward(old). backward(forward(' 12')) would be '12'.
  Exec("UPDATE items SET _tandem_qty = (qty)::int");
  EXPECT_EQ(Rows("SELECT qty, _tandem_qty FROM items ORDER BY id"),
            (std::vector<std::string>{" 12|12", "<null>|<null>"}));
  // A later write of the same value through the new name also keeps the old text.
  Exec("UPDATE items SET _tandem_qty = 12 WHERE id = 1");
  EXPECT_EQ(One("SELECT qty FROM items WHERE id = 1"), " 12");
}

TEST_F(DualWriteTest, PairWithoutBackwardRefusesWritesThatNeedIt) {
  Exec("CREATE TABLE items (id int PRIMARY KEY, code text, _tandem_code int)");
  DualWriteSpec spec{"public", "items", "_tandem_dw_items", "_tandem_dw_items", {}};
  spec.columns.push_back({"code", "_tandem_code", "(NEW.\"code\")::int", ""});
  ExecAll(CreateDualWriteSql(spec));
  Exec("INSERT INTO items (id, code) VALUES (1, '7')");
  Exec("UPDATE items SET code = '8'");
  EXPECT_EQ(One("SELECT code, _tandem_code FROM items"), "8|8");
  Exec("UPDATE items SET _tandem_code = 8");  // consistent with the old side: allowed
  Status refused = db_->Exec("UPDATE items SET _tandem_code = 9");
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.sqlstate(), "0A000");
  EXPECT_EQ(refused.message(),
            "column \"code\" of table \"public\".\"items\" cannot be derived from "
            "\"_tandem_code\"");
  EXPECT_NE(refused.hint().find("tandem:down-expression"), std::string::npos);
  Status refused_insert = db_->Exec("INSERT INTO items (id, _tandem_code) VALUES (2, 5)");
  EXPECT_EQ(refused_insert.sqlstate(), "0A000") << refused_insert.ToString();
}

TEST_F(DualWriteTest, CreateIsIdempotentAndReplacesTheColumnList) {
  CreateUsers();
  ExecAll(CreateDualWriteSql(RenameSpec()));
  EXPECT_EQ(One("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT "
                "tgisinternal"),
            "1");
  // A second pair on the same table: the one trigger now covers both.
  Exec("ALTER TABLE users ADD COLUMN _tandem_mail text");
  DualWriteSpec spec = RenameSpec();
  spec.columns.push_back({"email", "_tandem_mail", "lower(NEW.\"email\")", "NEW.\"_tandem_mail\""});
  ExecAll(CreateDualWriteSql(spec));
  EXPECT_EQ(One("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT "
                "tgisinternal"),
            "1");
  Exec("INSERT INTO users (name, email) VALUES ('ada', 'ADA@X')");
  EXPECT_EQ(One("SELECT _tandem_full_name, _tandem_mail FROM users"), "ada|ada@x");
  Exec("UPDATE users SET email = 'B@X'");
  EXPECT_EQ(One("SELECT _tandem_mail FROM users"), "b@x");
}

TEST_F(DualWriteTest, DropIsIdempotentAndRemovesEverything) {
  CreateUsers();
  ExecAll(DropDualWriteSql(RenameSpec()));
  ExecAll(DropDualWriteSql(RenameSpec()));
  EXPECT_EQ(One("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT "
                "tgisinternal"),
            "0");
  EXPECT_EQ(One("SELECT count(*) FROM pg_proc WHERE proname = '_tandem_dw_users'"), "0");
  Exec("INSERT INTO users (name) VALUES ('ada')");
  EXPECT_EQ(One("SELECT name, _tandem_full_name FROM users"), "ada|<null>");
  Exec("DROP TABLE users");
  ExecAll(DropDualWriteSql(RenameSpec()));  // the table is gone too: still no error
}

TEST_F(DualWriteTest, TableWithoutPrimaryKey) {
  CreateUsers("id int");
  Exec("INSERT INTO users (id, name) VALUES (1, 'a'), (1, 'b')");
  Exec("UPDATE users SET _tandem_full_name = 'c' WHERE name = 'b'");
  EXPECT_EQ(Rows("SELECT name, _tandem_full_name FROM users ORDER BY name"),
            (std::vector<std::string>{"a|a", "c|c"}));
}

TEST_F(DualWriteTest, IdentityPrimaryKeyAndReturning) {
  CreateUsers();
  EXPECT_EQ(One("INSERT INTO users (name) VALUES ('ada') RETURNING id, _tandem_full_name"),
            "1|ada");
  EXPECT_EQ(One("UPDATE users SET _tandem_full_name = 'b' WHERE id = 1 RETURNING name"), "b");
}

TEST_F(DualWriteTest, OddIdentifiersAndDollarsInExpressions) {
  Exec("CREATE SCHEMA \"Odd $tandem$ \"\"s\"");
  Exec("CREATE TABLE \"Odd $tandem$ \"\"s\".\"t'\\\"\"x\" (\"a\"\"$tandem$\" text, \"b'\\\" text)");
  DualWriteSpec spec{"Odd $tandem$ \"s", "t'\\\"x", "trg $tandem1$", "fn'\"", {}};
  spec.columns.push_back({"a\"$tandem$", "b'\\", "NEW.\"a\"\"$tandem$\" || $tandem$!$tandem$",
                          "rtrim(NEW.\"b'\\\", '!')"});
  ExecAll(CreateDualWriteSql(spec));
  ExecAll(CreateDualWriteSql(spec));
  const std::string table = "\"Odd $tandem$ \"\"s\".\"t'\\\"\"x\"";
  Exec("INSERT INTO " + table + " (\"a\"\"$tandem$\") VALUES ('hi')");
  EXPECT_EQ(One("SELECT * FROM " + table), "hi|hi!");
  Exec("UPDATE " + table + " SET \"b'\\\" = 'yo!'");
  EXPECT_EQ(One("SELECT * FROM " + table), "yo|yo!");
  ExecAll(DropDualWriteSql(spec));
  EXPECT_EQ(One("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = '" +
                std::string("\"Odd $tandem$ \"\"s\".\"t''\\\"\"x\"") + "'::regclass"),
            "0");
}

TEST_F(DualWriteTest, BeforePostgres14TheTriggerIsReplacedInOneStatement) {
  Exec("CREATE TABLE users (id int, name text, _tandem_full_name text, email text)");
  DualWriteSpec spec = RenameSpec();
  spec.server_version_num = 130000;
  std::vector<std::string> sql = CreateDualWriteSql(spec);
  ASSERT_EQ(sql.size(), 2u);
  EXPECT_EQ(sql[1].rfind("DO ", 0), 0u) << sql[1];
  ExecAll(sql);
  ExecAll(sql);
  EXPECT_EQ(One("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT "
                "tgisinternal"),
            "1");
  Exec("INSERT INTO users (name) VALUES ('ada')");
  EXPECT_EQ(One("SELECT _tandem_full_name FROM users"), "ada");
}

TEST(DualWriteSpecTest, RejectsWhatTheGeneratorCannotUse) {
  DualWriteSpec good{"public", "t", "trg", "fn", {{"a", "b", "NEW.a", "NEW.b"}}};
  EXPECT_TRUE(CheckDualWriteSpec(good).ok());
  DualWriteSpec no_pairs = good;
  no_pairs.columns.clear();
  EXPECT_EQ(CheckDualWriteSpec(no_pairs).message(),
            "dual-write trigger on \"public\".\"t\" has no column pairs");
  EXPECT_TRUE(CreateDualWriteSql(no_pairs).empty());
  DualWriteSpec same = good;
  same.columns[0].new_column = "a";
  EXPECT_FALSE(CheckDualWriteSpec(same).ok());
  DualWriteSpec no_forward = good;
  no_forward.columns[0].forward_sql.clear();
  EXPECT_FALSE(CheckDualWriteSpec(no_forward).ok());
  DualWriteSpec twice = good;
  twice.columns.push_back({"b", "c", "NEW.b", ""});
  EXPECT_EQ(CheckDualWriteSpec(twice).message(),
            "column \"b\" appears in two dual-write pairs of \"public\".\"t\"");
  DualWriteSpec unnamed = good;
  unnamed.trigger_name.clear();
  EXPECT_EQ(CheckDualWriteSpec(unnamed).code(), StatusCode::kInvalidInput);
}

TEST(DualWriteSpecTest, TriggerCoversOnlyThePairsColumns) {
  DualWriteSpec spec{"public", "t", "trg", "fn", {{"a", "b", "NEW.\"a\"", "NEW.\"b\""}}};
  std::vector<std::string> sql = CreateDualWriteSql(spec);
  ASSERT_EQ(sql.size(), 2u);
  EXPECT_EQ(sql[1],
            "CREATE OR REPLACE TRIGGER \"trg\" BEFORE INSERT OR UPDATE OF \"a\", \"b\" ON "
            "\"public\".\"t\" FOR EACH ROW EXECUTE PROCEDURE \"public\".\"fn\"()");
  EXPECT_EQ(sql[0].find("search_path"), std::string::npos);
  EXPECT_EQ(DropDualWriteSql(spec),
            (std::vector<std::string>{"DROP TRIGGER IF EXISTS \"trg\" ON \"public\".\"t\"",
                                      "DROP FUNCTION IF EXISTS \"public\".\"fn\"()"}));
}

}  // namespace
}  // namespace tandem::expand
