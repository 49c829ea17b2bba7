// Every rule: at least two statements it must fire on and two it must not, with the
// version-dependent cases on both sides of the version. One TEST per rule, named after it.
#include <gtest/gtest.h>

#include "lint/lint_test_util.h"
#include "lint/rule.h"

namespace tandem::lint::testing {
namespace {

using migrate::Phase;

const char* kUsers =
    "CREATE TABLE users (id bigint PRIMARY KEY, email text, name varchar(100), "
    "price numeric(10,2), created timestamp, code varchar(10), note text, tags int);";

void ExpectFires(const std::string& rule, const Case& c) {
  EXPECT_TRUE(Fires(rule, c)) << rule << " should fire on: " << c.sql << " (PG " << c.pg << ")";
}
void ExpectQuiet(const std::string& rule, const Case& c) {
  EXPECT_FALSE(Fires(rule, c)) << rule << " should not fire on: " << c.sql << " (PG " << c.pg
                               << ")";
}

// The findings of one rule, to check a recipe, a message or a position.
std::vector<Finding> FindingsOf(const std::string& rule, const Case& c) {
  std::vector<Finding> out;
  for (auto& f : LintCase(c).findings) {
    if (f.rule == rule) out.push_back(std::move(f));
  }
  return out;
}

// The recipe of the only finding of `rule`; "" (and a test failure) when there is not exactly one.
std::string RecipeOf(const std::string& rule, const Case& c) {
  auto found = FindingsOf(rule, c);
  EXPECT_EQ(found.size(), 1u) << rule << " on: " << c.sql;
  return found.size() == 1 ? found[0].recipe : "";
}

TEST(RuleAddColumnVolatileDefault, FiresAndNot) {
  const std::string r = "add-column-volatile-default";
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN t uuid DEFAULT gen_random_uuid();"});
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN t timestamptz DEFAULT clock_timestamp();"});
  ExpectFires(r, {.sql = "ALTER TABLE users ADD COLUMN t int DEFAULT 0;", .pg = 10});
  ExpectQuiet(r, {.sql = "ALTER TABLE users ADD COLUMN t int DEFAULT 0;", .pg = 11});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN t timestamptz DEFAULT now();"});
  ExpectQuiet(
      r, {"CREATE TABLE n (id int);\nALTER TABLE n ADD COLUMN t uuid DEFAULT gen_random_uuid();"});
  // Item 17 of issue 11: by signature. now(123) and public.now() are not the built-in now().
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN t timestamptz DEFAULT now(123);"});
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN t timestamptz DEFAULT public.now();"});
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN t text DEFAULT lower('A', 'B');"});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN t timestamptz DEFAULT pg_catalog.now();"});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN t text DEFAULT lower('A');"});
  ExpectQuiet(r, {.sql = "ALTER TABLE users ADD COLUMN t int DEFAULT f(1);",
                  .prior = "CREATE FUNCTION f(a int, b int DEFAULT 0) RETURNS int IMMUTABLE "
                           "LANGUAGE sql AS 'SELECT a + b';"});
  ExpectFires(r, {.sql = "ALTER TABLE users ADD COLUMN t int DEFAULT f(1, 2, 3);",
                  .prior = "CREATE FUNCTION f(a int, b int DEFAULT 0) RETURNS int IMMUTABLE "
                           "LANGUAGE sql AS 'SELECT a + b';"});
  ExpectFires(r, {.sql = "ALTER TABLE users ADD COLUMN t int DEFAULT f(1);",
                  .prior = "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'SELECT a';"});
  ExpectFires(
      r, {.sql = "ALTER TABLE users ADD COLUMN t int DEFAULT f(1);",
          .prior = "CREATE FUNCTION f(a int) RETURNS int STABLE LANGUAGE sql AS 'SELECT a';\n"
                   "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql AS 'SELECT a';"});
}

TEST(RuleAddColumnRequired, FiresAndNot) {
  const std::string r = "add-column-required";
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN country text NOT NULL;"});
  ExpectFires(r, {"ALTER TABLE a ADD COLUMN b int NOT NULL, ADD COLUMN c int;"});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN country text NOT NULL DEFAULT 'no';"});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN country text;"});
}

TEST(RuleAddColumnSerial, FiresAndNot) {
  const std::string r = "add-column-serial";
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN seq bigserial;"});
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN seq int GENERATED ALWAYS AS IDENTITY;"});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN seq bigint;"});
  ExpectQuiet(r, {"CREATE TABLE n (id serial PRIMARY KEY);"});
}

TEST(RuleAddColumnGeneratedStored, FiresAndNot) {
  const std::string r = "add-column-generated-stored";
  ExpectFires(r,
              {"ALTER TABLE users ADD COLUMN l text GENERATED ALWAYS AS (lower(email)) STORED;"});
  ExpectFires(r, {"ALTER TABLE t ADD COLUMN d int GENERATED ALWAYS AS (a * 2) STORED;"});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN l text;"});
  ExpectQuiet(r, {"CREATE TABLE n (a int, d int GENERATED ALWAYS AS (a * 2) STORED);"});
}

TEST(RulePreferJsonb, FiresAndNot) {
  const std::string r = "prefer-jsonb";
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN p json;"});
  ExpectFires(r, {"CREATE TABLE e (p json);"});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN p jsonb;"});
  ExpectQuiet(r, {"CREATE TABLE e (p text);"});
}

TEST(RuleChangeColumnType, PreciseAboutRewrites) {
  const std::string r = "change-column-type";
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN tags TYPE bigint;", kUsers});
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN note TYPE varchar(100);", kUsers});
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN price TYPE numeric(10,3);", kUsers});
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN created TYPE timestamptz;", kUsers});
  ExpectFires(r, {.sql = "ALTER TABLE users ALTER COLUMN created TYPE timestamptz;",
                  .prior = std::string(kUsers) + "SET TIME ZONE 'UTC';",
                  .pg = 11});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN name TYPE varchar(200);", kUsers});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN name TYPE text;", kUsers});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN name TYPE varchar;", kUsers});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN price TYPE numeric(12,2);", kUsers});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN price TYPE numeric;", kUsers});
  ExpectQuiet(
      r, {.sql = "SET TIME ZONE 'UTC';\nALTER TABLE users ALTER COLUMN created TYPE timestamptz;",
          .prior = kUsers,
          .pg = 12});
  // Unknown current type: reported, as a warning.
  auto report = LintCase({"ALTER TABLE other ALTER COLUMN x TYPE text;"});
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].severity, Severity::kWarning);
}

TEST(RuleSetNotNullScan, VersionAndCheckAware) {
  const std::string r = "set-not-null-scan";
  std::string with_check =
      std::string(kUsers) + "ALTER TABLE users ADD CONSTRAINT e_nn CHECK (email IS NOT NULL);";
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN email SET NOT NULL;", kUsers});
  ExpectFires(r, {.sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
                  .prior = with_check,
                  .phase = Phase::kPostDeploy,
                  .pg = 11});
  ExpectFires(
      r, {.sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
          .prior = std::string(kUsers) +
                   "ALTER TABLE users ADD CONSTRAINT e_nn CHECK (email IS NOT NULL) NOT VALID;",
          .phase = Phase::kPostDeploy});
  ExpectQuiet(r, {.sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
                  .prior = with_check,
                  .phase = Phase::kPostDeploy,
                  .pg = 12});
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nALTER TABLE n ALTER COLUMN a SET NOT NULL;"});
}

TEST(RuleConstraintMissingNotValid, FiresAndNot) {
  const std::string r = "constraint-missing-not-valid";
  ExpectFires(r, {"ALTER TABLE orders ADD CONSTRAINT p CHECK (amount > 0);"});
  ExpectFires(r, {"ALTER TABLE orders ADD COLUMN q int CHECK (q > 0);"});
  ExpectQuiet(r, {"ALTER TABLE orders ADD CONSTRAINT p CHECK (amount > 0) NOT VALID;"});
  ExpectQuiet(r, {"CREATE TABLE o (a int);\nALTER TABLE o ADD CONSTRAINT p CHECK (a > 0);"});
}

TEST(RuleForeignKeyMissingNotValid, FiresAndNot) {
  const std::string r = "foreign-key-missing-not-valid";
  ExpectFires(r,
              {"ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (user_id) REFERENCES users (id);"});
  ExpectFires(r, {"ALTER TABLE orders ADD COLUMN user_id bigint DEFAULT 1 REFERENCES users (id);"});
  // A new column without a default is NULL everywhere: nothing to validate, no scan.
  ExpectQuiet(r, {"ALTER TABLE orders ADD COLUMN user_id bigint REFERENCES users (id);"});
  ExpectQuiet(r, {"ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (user_id) REFERENCES users (id) "
                  "NOT VALID;"});
  ExpectQuiet(r, {"CREATE TABLE o (user_id bigint REFERENCES users (id));"});
}

TEST(RuleDropForeignKey, NeedsTheModel) {
  const std::string r = "drop-foreign-key";
  std::string prior =
      "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (pid int, CONSTRAINT c_fk FOREIGN KEY "
      "(pid) REFERENCES p (id), CONSTRAINT c_ck CHECK (pid > 0));";
  ExpectFires(r, {"ALTER TABLE c DROP CONSTRAINT c_fk;", prior});
  ExpectFires(r, {"ALTER TABLE c DROP CONSTRAINT c_fk, DROP CONSTRAINT c_ck;", prior});
  ExpectQuiet(r, {"ALTER TABLE c DROP CONSTRAINT c_ck;", prior});
  ExpectQuiet(r, {"ALTER TABLE unknown DROP CONSTRAINT x;", prior});
}

TEST(RuleAddUniqueConstraint, FiresAndNot) {
  const std::string r = "add-unique-constraint";
  ExpectFires(r, {"ALTER TABLE users ADD CONSTRAINT u UNIQUE (email);"});
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN handle text UNIQUE;"});
  ExpectQuiet(r, {"ALTER TABLE users ADD CONSTRAINT u UNIQUE USING INDEX u_idx;"});
  ExpectQuiet(r, {"CREATE TABLE n (a int UNIQUE);"});
}

TEST(RuleAddPrimaryKey, FiresAndNot) {
  const std::string r = "add-primary-key";
  std::string prior =
      "CREATE TABLE nopk (id int, k int NOT NULL);\nCREATE UNIQUE INDEX nopk_id ON nopk (id);\n"
      "CREATE UNIQUE INDEX nopk_k ON nopk (k);";
  ExpectFires(r, {"ALTER TABLE nopk ADD PRIMARY KEY (id);", prior});
  ExpectFires(r, {"ALTER TABLE nopk ADD CONSTRAINT p PRIMARY KEY USING INDEX nopk_id;", prior});
  ExpectQuiet(r, {"ALTER TABLE nopk ADD CONSTRAINT p PRIMARY KEY USING INDEX nopk_k;", prior});
  ExpectQuiet(r, {"CREATE TABLE n (id int);\nALTER TABLE n ADD PRIMARY KEY (id);"});
}

TEST(RuleAddExclusionConstraint, FiresAndNot) {
  const std::string r = "add-exclusion-constraint";
  ExpectFires(r, {"ALTER TABLE b ADD CONSTRAINT x EXCLUDE USING gist (room WITH =);"});
  ExpectFires(r, {"ALTER TABLE b ADD EXCLUDE (a WITH =);"});
  ExpectQuiet(r, {"CREATE TABLE b (a int);\nALTER TABLE b ADD EXCLUDE (a WITH =);"});
  ExpectQuiet(r, {"ALTER TABLE b ADD CONSTRAINT x CHECK (a > 0) NOT VALID;"});
}

TEST(RuleCreateIndexNonConcurrently, FiresAndNot) {
  const std::string r = "create-index-non-concurrently";
  ExpectFires(r, {"CREATE INDEX i ON users (email);"});
  ExpectFires(r, {"CREATE UNIQUE INDEX i ON users (lower(email));"});
  // The recipe is the statement itself, made concurrent: nothing of the index is lost.
  EXPECT_EQ(RecipeOf(r, {"create index i on users using btree (lower(email) DESC NULLS LAST)\n"
                         "  INCLUDE (id) WHERE email IS NOT NULL;"}),
            "-- in a migration with -- tandem:transaction off\n"
            "create index CONCURRENTLY i on users using btree (lower(email) DESC NULLS LAST)\n"
            "  INCLUDE (id) WHERE email IS NOT NULL;");
  EXPECT_EQ(RecipeOf(r, {"CREATE UNIQUE INDEX IF NOT EXISTS i ON users (email);"}),
            "-- in a migration with -- tandem:transaction off\n"
            "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON users (email);");
  EXPECT_EQ(RecipeOf(r, {"Create\n  Unique\tIndex i ON users (email);"}),
            "-- in a migration with -- tandem:transaction off\n"
            "Create\n  Unique\tIndex CONCURRENTLY i ON users (email);");
  // A comment between the keywords: the recipe is rebuilt from the parsed index instead.
  EXPECT_EQ(RecipeOf(r, {"CREATE /* c */ INDEX i ON users (email);"}),
            "-- in a migration with -- tandem:transaction off\n"
            "CREATE INDEX CONCURRENTLY i ON users (email);");
  ExpectQuiet(r, {.sql = "CREATE INDEX CONCURRENTLY i ON users (email);", .transactional = false});
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nCREATE INDEX i ON n (a);"});
  // IF NOT EXISTS on a table that already exists creates nothing: its index still locks it.
  ExpectFires(r, {"CREATE TABLE IF NOT EXISTS users (id bigint);\nCREATE INDEX i ON users (email);",
                  kUsers});
  ExpectQuiet(r, {"CREATE TABLE IF NOT EXISTS n (a int);\nCREATE INDEX i ON n (a);"});
  ExpectQuiet(r, {"CREATE INDEX i ON ONLY parted (k);",
                  "CREATE TABLE parted (k int) PARTITION BY LIST (k);"});
}

TEST(RuleDropIndexNonConcurrently, FiresAndNot) {
  const std::string r = "drop-index-non-concurrently";
  ExpectFires(r, {"DROP INDEX i;"});
  ExpectFires(r, {"DROP INDEX IF EXISTS a, b;"});
  ExpectQuiet(r, {.sql = "DROP INDEX CONCURRENTLY i;", .transactional = false});
  ExpectQuiet(r, {"DROP TABLE t;"});
}

TEST(RuleReindexNonConcurrently, VersionAware) {
  const std::string r = "reindex-non-concurrently";
  ExpectFires(r, {"REINDEX INDEX i;"});
  ExpectFires(r, {.sql = "REINDEX TABLE t;", .pg = 11});
  ExpectQuiet(r, {.sql = "REINDEX INDEX CONCURRENTLY i;", .transactional = false});
  ExpectQuiet(r, {.sql = "CREATE INDEX CONCURRENTLY i ON t (a);", .transactional = false});
  auto old = LintCase({.sql = "REINDEX TABLE t;", .pg = 11});
  EXPECT_EQ(old.findings[0].recipe.find("REINDEX TABLE CONCURRENTLY"), std::string::npos);
}

TEST(RuleConcurrentIndexPg14Corruption, VersionAware) {
  const std::string r = "concurrent-index-pg14-corruption";
  ExpectFires(r, {.sql = "CREATE INDEX CONCURRENTLY i ON t (a);",
                  .pg = 14,
                  .minor = 3,
                  .transactional = false});
  ExpectFires(
      r, {.sql = "REINDEX INDEX CONCURRENTLY i;", .pg = 14, .minor = 0, .transactional = false});
  ExpectQuiet(r, {.sql = "CREATE INDEX CONCURRENTLY i ON t (a);",
                  .pg = 14,
                  .minor = 4,
                  .transactional = false});
  ExpectQuiet(r, {.sql = "CREATE INDEX CONCURRENTLY i ON t (a);", .transactional = false});
}

TEST(RuleDropColumn, PhaseAware) {
  const std::string r = "drop-column";
  ExpectFires(r, {"ALTER TABLE users DROP COLUMN legacy;"});
  ExpectFires(r, {"ALTER TABLE users DROP COLUMN IF EXISTS a, DROP COLUMN b;"});
  ExpectQuiet(r, {.sql = "ALTER TABLE users DROP COLUMN legacy;", .phase = Phase::kPostDeploy});
  ExpectQuiet(r, {"CREATE TABLE n (a int, b int);\nALTER TABLE n DROP COLUMN b;"});
}

TEST(RuleDropTable, PhaseAware) {
  const std::string r = "drop-table";
  ExpectFires(r, {"DROP TABLE sessions;"});
  ExpectFires(r, {"DROP TABLE IF EXISTS a, b CASCADE;"});
  ExpectQuiet(r, {.sql = "DROP TABLE sessions;", .phase = Phase::kPostDeploy});
  ExpectQuiet(r, {"CREATE TABLE tmp (a int);\nDROP TABLE tmp;"});
}

TEST(RuleRenameColumn, FiresAndNot) {
  const std::string r = "rename-column";
  ExpectFires(r, {"ALTER TABLE users RENAME COLUMN name TO full_name;"});
  ExpectFires(r, {.sql = "ALTER TABLE users RENAME COLUMN name TO full_name;",
                  .phase = Phase::kPostDeploy});
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nALTER TABLE n RENAME COLUMN a TO b;"});
  ExpectQuiet(r, {"ALTER INDEX i RENAME TO j;"});
}

// The recipes of the three renaming/rewriting rules lead with `-- tandem:online` and the user's
// own statement, then the steps by hand.
TEST(RuleRecipes, PointToTandemOnline) {
  std::string rename_column =
      RecipeOf("rename-column", {"ALTER TABLE users RENAME COLUMN name TO full_name;"});
  EXPECT_EQ(rename_column.rfind("-- tandem:online\nALTER TABLE users RENAME COLUMN name TO "
                                "full_name;\n-- with the directive in the file's header tandem",
                                0),
            0u)
      << rename_column;
  EXPECT_NE(rename_column.find("`tandem complete`"), std::string::npos) << rename_column;
  EXPECT_NE(rename_column.find("-- by hand instead:\n-- pre-deploy: add the new column"),
            std::string::npos)
      << rename_column;
  std::string rename_table = RecipeOf("rename-table", {"ALTER TABLE users RENAME TO accounts;"});
  EXPECT_EQ(rename_table.rfind("-- tandem:online\nALTER TABLE users RENAME TO accounts;\n", 0), 0u)
      << rename_table;
  EXPECT_NE(rename_table.find("-- by hand instead:\nBEGIN;\nALTER TABLE users RENAME TO accounts;"),
            std::string::npos)
      << rename_table;
  std::string type =
      RecipeOf("change-column-type",
               {"ALTER TABLE users ALTER COLUMN tags TYPE bigint USING tags::bigint;", kUsers});
  EXPECT_EQ(type.rfind("-- tandem:online\nALTER TABLE users ALTER COLUMN tags TYPE bigint USING "
                       "tags::bigint;\n",
                       0),
            0u)
      << type;
  EXPECT_NE(type.find("-- tandem:down-expression"), std::string::npos) << type;
  EXPECT_NE(type.find("-- by hand instead:\nALTER TABLE users ADD COLUMN tags_new bigint;"),
            std::string::npos)
      << type;
  for (const char* id : {"rename-column", "rename-table", "change-column-type"}) {
    const Rule* rule = FindRule(id);
    ASSERT_NE(rule, nullptr) << id;
    EXPECT_EQ(std::string(rule->recipe).rfind("-- tandem:online\n", 0), 0u) << id;
  }
}

TEST(RuleRenameTable, FiresAndNot) {
  const std::string r = "rename-table";
  ExpectFires(r, {"ALTER TABLE users RENAME TO accounts;"});
  ExpectFires(r, {.sql = "ALTER TABLE s.users RENAME TO accounts;", .phase = Phase::kPostDeploy});
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nALTER TABLE n RENAME TO m;"});
  ExpectQuiet(r, {"ALTER TABLE users RENAME COLUMN a TO b;"});
}

TEST(RuleSetNotNullPreDeploy, PhaseAware) {
  const std::string r = "set-not-null-pre-deploy";
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN email SET NOT NULL;", kUsers});
  ExpectFires(r, {"ALTER TABLE other ALTER COLUMN x SET NOT NULL;"});
  ExpectQuiet(r, {.sql = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
                  .prior = kUsers,
                  .phase = Phase::kPostDeploy});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
                  "CREATE TABLE users (email text DEFAULT '');"});
  // A CHECK (email IS NOT NULL), validated or not, already refuses writes without the column
  // (squawk's cross-migration "validate, then SET NOT NULL" test).
  ExpectQuiet(r, {"ALTER TABLE users VALIDATE CONSTRAINT users_email_nn;\n"
                  "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
                  "CREATE TABLE users (email text);\n"
                  "ALTER TABLE users ADD CONSTRAINT "
                  "users_email_nn CHECK (email IS NOT NULL) NOT VALID;"});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
                  "CREATE TABLE users (email text);\n"
                  "ALTER TABLE users ADD CONSTRAINT "
                  "users_email_nn CHECK (email IS NOT NULL) NOT VALID;"});
}

TEST(RuleDropDefaultPreDeploy, PhaseAware) {
  const std::string r = "drop-default-pre-deploy";
  // squawk's "adding a field that is not nullable": the default only filled existing rows.
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN foo integer DEFAULT 10 NOT NULL;\n"
                  "ALTER TABLE users ALTER COLUMN foo DROP DEFAULT;",
                  kUsers});
  ExpectQuiet(r, {.sql = "ALTER TABLE users ADD COLUMN foo integer DEFAULT 10 NOT NULL;\n"
                         "ALTER TABLE users ALTER COLUMN foo DROP DEFAULT;",
                  .prior = kUsers,
                  .phase = Phase::kPostDeploy});
  // A nullable column: old inserts get NULL, which it accepts.
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN foo integer DEFAULT 10;\n"
                  "ALTER TABLE users ALTER COLUMN foo DROP DEFAULT;",
                  kUsers});
  // A table created in the same migration: the old app does not use it.
  ExpectQuiet(r, {"CREATE TABLE n (foo integer NOT NULL DEFAULT 1);\n"
                  "ALTER TABLE n ALTER COLUMN foo DROP DEFAULT;"});
}

TEST(RuleNarrowColumnTypePreDeploy, PhaseAware) {
  const std::string r = "narrow-column-type-pre-deploy";
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN name TYPE varchar(50);", kUsers});
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN note TYPE varchar(20);", kUsers});
  ExpectQuiet(r, {.sql = "ALTER TABLE users ALTER COLUMN name TYPE varchar(50);",
                  .prior = kUsers,
                  .phase = Phase::kPostDeploy});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN name TYPE varchar(200);", kUsers});
}

TEST(RuleConcurrentlyInTransaction, TransactionAware) {
  const std::string r = "concurrently-in-transaction";
  ExpectFires(r, {"CREATE INDEX CONCURRENTLY i ON users (email);"});
  ExpectFires(
      r, {.sql = "BEGIN;\nDROP INDEX CONCURRENTLY i;\nCOMMIT;\nSELECT 1;", .transactional = false});
  // A wrapper around the whole section is dropped by the runner: the statements inside run one
  // by one (transaction off) or in tandem's own transaction.
  ExpectFires(r, {"BEGIN;\nDROP INDEX CONCURRENTLY i;\nCOMMIT;"});
  ExpectQuiet(r, {.sql = "BEGIN;\nDROP INDEX CONCURRENTLY i;\nCOMMIT;", .transactional = false});
  ExpectQuiet(r, {.sql = "CREATE INDEX CONCURRENTLY i ON users (email);", .transactional = false});
  ExpectQuiet(r, {"CREATE INDEX i ON users (email);"});
  // Item 6 of issue 11: after COMMIT the statement runs outside any transaction block.
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN plan text;\nCOMMIT;\n"
                  "CREATE INDEX CONCURRENTLY users_plan ON users (plan);\nBEGIN;"});
  EXPECT_TRUE(Fires("transaction-control-in-migration",
                    {"ALTER TABLE users ADD COLUMN plan text;\nCOMMIT;\n"
                     "CREATE INDEX CONCURRENTLY users_plan ON users (plan);\nBEGIN;"}));
}

TEST(RuleDdlAndDataInTransaction, TransactionAware) {
  const std::string r = "ddl-and-data-in-transaction";
  ExpectFires(
      r,
      {"ALTER TABLE users ADD COLUMN plan text;\nUPDATE users SET plan = 'free' WHERE id < 10;"});
  ExpectFires(r, {"CREATE INDEX i ON users (a);\nDELETE FROM users WHERE id = 1;"});
  ExpectQuiet(
      r,
      {.sql =
           "ALTER TABLE users ADD COLUMN plan text;\nUPDATE users SET plan = 'free' WHERE id < 10;",
       .transactional = false});
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nINSERT INTO n VALUES (1);"});
}

TEST(RuleNotValidValidateSameTransaction, TransactionAware) {
  const std::string r = "not-valid-validate-same-transaction";
  ExpectFires(r, {"ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\nALTER TABLE t VALIDATE "
                  "CONSTRAINT c;"});
  // The wrapper is dropped; tandem's own transaction still holds both statements.
  ExpectFires(
      r, {"BEGIN;\nALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES p (id) NOT VALID;\n"
          "ALTER TABLE t VALIDATE CONSTRAINT f;\nCOMMIT;"});
  ExpectQuiet(r, {"ALTER TABLE t VALIDATE CONSTRAINT c;"});
  ExpectQuiet(
      r, {.sql = "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\nALTER TABLE t VALIDATE "
                 "CONSTRAINT c;",
          .transactional = false});
}

TEST(RuleEnumValueUsedInTransaction, TransactionAndVersionAware) {
  const std::string r = "enum-value-used-in-transaction";
  ExpectFires(r,
              {"ALTER TYPE mood ADD VALUE 'calm';\nUPDATE people SET mood = 'calm' WHERE id = 1;"});
  ExpectFires(r, {.sql = "ALTER TYPE mood ADD VALUE 'calm';", .pg = 11});
  ExpectQuiet(r, {.sql = "ALTER TYPE mood ADD VALUE 'calm';", .pg = 12});
  ExpectQuiet(
      r, {.sql = "ALTER TYPE mood ADD VALUE 'calm';\nUPDATE people SET mood = 'calm' WHERE id = 1;",
          .transactional = false});
}

TEST(RuleBackfillOutsideBackground, FiresAndNot) {
  const std::string r = "backfill-outside-background";
  ExpectFires(r, {"UPDATE users SET email_lower = lower(email);"});
  ExpectFires(r, {"DELETE FROM sessions WHERE expired;"});
  ExpectQuiet(r, {.sql = "UPDATE users SET a = 1 WHERE id >= :batch_start AND id < :batch_end;",
                  .phase = Phase::kBackground});
  ExpectQuiet(r, {"UPDATE users SET a = 1 WHERE id BETWEEN 1 AND 1000;"});
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nUPDATE n SET a = 1;"});
}

TEST(RuleTruncateTable, FiresAndNot) {
  const std::string r = "truncate-table";
  ExpectFires(r, {"TRUNCATE audit;"});
  ExpectFires(r, {"TRUNCATE a, b CASCADE;"});
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nTRUNCATE n;"});
  ExpectQuiet(r, {"DELETE FROM audit WHERE id < 10;"});
}

TEST(RuleVacuumFullOrCluster, FiresAndNot) {
  const std::string r = "vacuum-full-or-cluster";
  ExpectFires(r, {.sql = "VACUUM FULL events;", .transactional = false});
  ExpectFires(r, {"CLUSTER events USING events_pkey;"});
  ExpectQuiet(r, {.sql = "VACUUM events;", .transactional = false});
  ExpectQuiet(r, {"ANALYZE events;"});
  auto v19 = LintCase({.sql = "CLUSTER events;", .pg = 19});
  EXPECT_NE(v19.findings[0].recipe.find("REPACK"), std::string::npos);
}

TEST(RuleTriggerOnExistingTable, FiresAndNot) {
  const std::string r = "trigger-on-existing-table";
  ExpectFires(r, {"CREATE TRIGGER a AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION f();"});
  ExpectFires(r, {"DROP TRIGGER a ON users;"});
  ExpectFires(r, {"ALTER TABLE users DISABLE TRIGGER a;"});
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nCREATE TRIGGER a AFTER INSERT ON n FOR EACH ROW "
                  "EXECUTE FUNCTION f();"});
  ExpectQuiet(
      r, {"CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"});
}

TEST(RuleRenameEnumValue, FiresAndNot) {
  const std::string r = "rename-enum-value";
  ExpectFires(r, {"ALTER TYPE status RENAME VALUE 'a' TO 'b';"});
  ExpectFires(r, {"ALTER TYPE s.status RENAME VALUE 'x' TO 'y';"});
  ExpectQuiet(r, {"ALTER TYPE status ADD VALUE 'c';"});
  ExpectQuiet(r, {"ALTER TYPE status RENAME TO state;"});
  // Item 7 of issue 11: a type created in the same migration has no app using its labels.
  ExpectQuiet(r, {"CREATE TYPE status AS ENUM ('a');\nALTER TYPE status RENAME VALUE 'a' TO 'b';"});
  ExpectFires(r, {.sql = "ALTER TYPE status RENAME VALUE 'a' TO 'b';",
                  .prior = "CREATE TYPE status AS ENUM ('a');"});
}

TEST(RuleAlterDomainAddConstraint, FiresAndNot) {
  const std::string r = "alter-domain-add-constraint";
  ExpectFires(r, {"ALTER DOMAIN pos ADD CONSTRAINT p CHECK (VALUE > 0);"});
  ExpectFires(r, {"ALTER DOMAIN s.pos ADD CHECK (VALUE < 10);"});
  ExpectQuiet(r, {"ALTER DOMAIN pos ADD CONSTRAINT p CHECK (VALUE > 0) NOT VALID;"});
  ExpectQuiet(r, {"CREATE DOMAIN pos AS int CHECK (VALUE > 0);"});
}

TEST(RuleTableRewriteAlter, FiresAndNot) {
  const std::string r = "table-rewrite-alter";
  ExpectFires(r, {"ALTER TABLE events SET UNLOGGED;"});
  ExpectFires(r, {"ALTER TABLE events SET TABLESPACE fast;"});
  ExpectQuiet(r, {"ALTER TABLE events SET (fillfactor = 70);"});
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nALTER TABLE n SET LOGGED;"});
}

TEST(RuleAttachPartitionScan, FiresAndNot) {
  const std::string r = "attach-partition-scan";
  ExpectFires(r, {"ALTER TABLE p ATTACH PARTITION p1 FOR VALUES IN (1);"});
  ExpectFires(r,
              {"ALTER TABLE p ATTACH PARTITION p1 FOR VALUES IN (1);", "CREATE TABLE p1 (k int);"});
  ExpectQuiet(r, {"ALTER TABLE p ATTACH PARTITION p1 FOR VALUES IN (1);",
                  "CREATE TABLE p1 (k int, CONSTRAINT b CHECK (k = 1));"});
  ExpectQuiet(r,
              {"CREATE TABLE p1 (k int);\nALTER TABLE p ATTACH PARTITION p1 FOR VALUES IN (1);"});
}

TEST(RuleDetachPartitionNonConcurrently, FiresAndNot) {
  const std::string r = "detach-partition-non-concurrently";
  ExpectFires(r, {"ALTER TABLE p DETACH PARTITION p1;"});
  ExpectFires(r, {.sql = "ALTER TABLE p DETACH PARTITION p1;", .pg = 13});
  ExpectQuiet(r,
              {.sql = "ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;", .transactional = false});
  ExpectQuiet(r, {"ALTER TABLE p ATTACH PARTITION p1 FOR VALUES IN (1);"});
  auto v13 = LintCase({.sql = "ALTER TABLE p DETACH PARTITION p1;", .pg = 13});
  EXPECT_EQ(v13.findings[0].recipe.find("DETACH PARTITION p1 CONCURRENTLY"), std::string::npos);
}

TEST(RuleRefreshMaterializedViewNonConcurrently, FiresAndNot) {
  const std::string r = "refresh-materialized-view-non-concurrently";
  ExpectFires(r, {"REFRESH MATERIALIZED VIEW totals;"});
  ExpectFires(r, {"REFRESH MATERIALIZED VIEW s.totals WITH DATA;"});
  ExpectQuiet(r, {"REFRESH MATERIALIZED VIEW CONCURRENTLY totals;"});
  ExpectQuiet(r, {"CREATE MATERIALIZED VIEW totals AS SELECT 1;"});
}

TEST(RuleDropDatabase, FiresAndNot) {
  const std::string r = "drop-database";
  ExpectFires(r, {.sql = "DROP DATABASE analytics;", .transactional = false});
  ExpectFires(
      r,
      {.sql = "DROP DATABASE IF EXISTS x;", .phase = Phase::kPostDeploy, .transactional = false});
  ExpectQuiet(r, {"DROP SCHEMA analytics;"});
  ExpectQuiet(r, {.sql = "CREATE DATABASE x;", .transactional = false});
}

TEST(RuleTransactionControlInMigration, FiresAndNot) {
  const std::string r = "transaction-control-in-migration";
  ExpectFires(r, {"COMMIT;"});
  ExpectFires(r, {"BEGIN;\nALTER TABLE users ADD COLUMN a int;\nCOMMIT;\nSELECT 1;"});
  // Item 14 of issue 11: what `up` refuses in a transaction-off file is an error too.
  ExpectFires(r, {.sql = "BEGIN;\nALTER TABLE users ADD COLUMN a int;", .transactional = false});
  ExpectFires(r, {.sql = "BEGIN;\nBEGIN;\nSELECT 1;\nCOMMIT;\nCOMMIT;", .transactional = false});
  ExpectFires(
      r, {.sql = "BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nCOMMIT;", .transactional = false});
  // Item 1: a wrapper around the whole section (golang-migrate style) is no finding.
  ExpectQuiet(r, {"BEGIN;\nALTER TABLE users ADD COLUMN a int;\nCOMMIT;"});
  ExpectQuiet(r, {"-- up\nbegin;\nALTER TABLE users ADD COLUMN a int;\ncommit;\n"});
  ExpectQuiet(
      r, {.sql = "BEGIN;\nALTER TABLE users ADD COLUMN a int;\nCOMMIT;", .transactional = false});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN a int;"});
}

TEST(RuleCatalog, EveryRuleHasMetadataAndAnExampleThatFires) {
  for (const Rule* rule : AllRules()) {
    EXPECT_NE(std::string(rule->why), "") << rule->id;
    EXPECT_NE(std::string(rule->recipe), "") << rule->id;
    if (!rule->check) continue;
    // The doc example, in the context the rule needs (pre-deploy, existing tables).
    Case c{rule->example};
    if (std::string(rule->id) == "narrow-column-type-pre-deploy") {
      c.prior = "CREATE TABLE users (name varchar(100));";
    } else if (std::string(rule->id) == "drop-foreign-key") {
      c.prior =
          "CREATE TABLE orders (user_id int, CONSTRAINT orders_user_id_fkey FOREIGN KEY "
          "(user_id) REFERENCES users (id));";
    } else if (std::string(rule->id) == "change-column-type") {
      c.prior = "CREATE TABLE orders (id int);";
    } else if (std::string(rule->id) == "concurrent-index-on-partitioned-table") {
      c.prior = "CREATE TABLE events (at timestamptz) PARTITION BY RANGE (at);";
    }
    if (std::string(rule->id) == "drop-database" ||
        std::string(rule->id) == "vacuum-full-or-cluster") {
      c.transactional = false;
    }
    if (std::string(rule->id) == "concurrent-index-pg14-corruption") c.pg = 14;
    EXPECT_TRUE(Fires(rule->id, c)) << rule->id << " example: " << rule->example;
  }
}

TEST(RuleAlterTableAccessExclusive, FiresAndNot) {
  const std::string r = "alter-table-access-exclusive";
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN note SET STORAGE EXTERNAL;", kUsers});
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN note SET COMPRESSION lz4;", kUsers});
  ExpectFires(r, {"ALTER TABLE users REPLICA IDENTITY FULL;"});
  ExpectFires(r, {"ALTER TABLE users ENABLE ROW LEVEL SECURITY;"});
  ExpectFires(r, {"ALTER TABLE users FORCE ROW LEVEL SECURITY;"});
  ExpectFires(r, {"ALTER TABLE users OWNER TO app;"});
  ExpectFires(r, {"ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk;"});
  ExpectFires(r, {"ALTER TABLE IF EXISTS public.users SET SCHEMA archive;"});
  ExpectFires(r, {"alter table \"Users\" set schema archive;"});
  // Created earlier in the migration: nobody else can see it yet.
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nALTER TABLE n REPLICA IDENTITY FULL;"});
  ExpectQuiet(r, {"CREATE TABLE n (a int CONSTRAINT c CHECK (a > 0));\n"
                  "ALTER TABLE n RENAME CONSTRAINT c TO d;"});
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nALTER TABLE n SET SCHEMA archive;"});
  // Other ALTERs: SHARE UPDATE EXCLUSIVE, other objects, or another rule's.
  ExpectQuiet(r, {"ALTER TABLE users SET (fillfactor = 70);"});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN note SET STATISTICS 500;", kUsers});
  ExpectQuiet(r, {"ALTER TYPE status SET SCHEMA archive;"});
  ExpectQuiet(r, {"ALTER INDEX users_email_idx RENAME TO users_email_key;"});
  ExpectQuiet(r, {"ALTER TABLE users SET TABLESPACE fast;"});
}

TEST(RuleForeignKeyLocksReferencedTable, FiresAndNot) {
  const std::string r = "foreign-key-locks-referenced-table";
  ExpectFires(r,
              {"CREATE TABLE orders (id bigint, user_id bigint REFERENCES users (id));", kUsers});
  ExpectFires(r, {"CREATE TABLE orders (id bigint, user_id bigint, "
                  "FOREIGN KEY (user_id) REFERENCES users (id));"});
  ExpectFires(r, {"CREATE TABLE orders (id bigint, user_id bigint);\n"
                  "ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (user_id) REFERENCES users;"});
  ExpectFires(r, {"CREATE TABLE orders (id bigint);\n"
                  "ALTER TABLE orders ADD COLUMN user_id bigint REFERENCES users (id);"});
  // Parent created earlier in the same migration, or a self-reference.
  ExpectQuiet(r, {"CREATE TABLE p (id bigint PRIMARY KEY);\n"
                  "CREATE TABLE c (id bigint, p_id bigint REFERENCES p (id));"});
  ExpectQuiet(r, {"CREATE TABLE tree (id bigint PRIMARY KEY, parent bigint REFERENCES tree);"});
  ExpectQuiet(r, {"CREATE TABLE orders (id bigint, user_id bigint);"});
  // An existing child is foreign-key-missing-not-valid's.
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN boss bigint REFERENCES users (id);", kUsers});
  ExpectQuiet(r,
              {"ALTER TABLE orders ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES users NOT VALID;"});
}

TEST(RuleConcurrentIndexOnPartitionedTable, FiresAndNot) {
  const std::string r = "concurrent-index-on-partitioned-table";
  const char* events = "CREATE TABLE events (at timestamptz, kind text) PARTITION BY RANGE (at);";
  Case c{"CREATE INDEX CONCURRENTLY events_at_idx ON events (at);", events};
  c.transactional = false;
  ExpectFires(r, c);
  ExpectFires(r, {"CREATE TABLE e2 (at timestamptz) PARTITION BY RANGE (at);\n"
                  "CREATE UNIQUE INDEX CONCURRENTLY e2_at ON e2 (at);"});
  ExpectQuiet(r, {"CREATE INDEX events_at_idx ON ONLY events (at);", events});
  ExpectQuiet(r, {"CREATE INDEX CONCURRENTLY users_email_idx ON users (email);", kUsers});
  ExpectQuiet(r, {"CREATE INDEX CONCURRENTLY x_idx ON unknown_table (a);"});
}

TEST(RulePreferBigint, FiresAndNot) {
  const std::string r = "prefer-bigint";
  // A type rule: new tables are where the choice is cheapest, so they are not exempt.
  ExpectFires(r, {"CREATE TABLE n (id integer PRIMARY KEY);"});
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN rank smallint;"});
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN tags TYPE int4;", kUsers});
  ExpectFires(r, {"CREATE TABLE n (a bigint);\nALTER TABLE n ADD COLUMN id serial;"});
  ExpectQuiet(r, {"CREATE TABLE n (id bigint, b bigserial, c int[], d numeric);"});
  // A serial added to an existing table is add-column-serial's, with its own recipe.
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN seq serial;"});
  ExpectFires("add-column-serial", {"ALTER TABLE users ADD COLUMN seq serial;"});
  EXPECT_EQ(RecipeOf(r, {"ALTER TABLE users ADD COLUMN visits int NOT NULL DEFAULT 0;"}),
            "ALTER TABLE users ADD COLUMN visits bigint NOT NULL DEFAULT 0;");
  EXPECT_EQ(RecipeOf(r, {"CREATE TABLE n (id serial PRIMARY KEY, name text);"}),
            "CREATE TABLE n (\n    ...\n    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY "
            "KEY,\n    ...\n);");
  EXPECT_EQ(RecipeOf(r, {"ALTER TABLE users ALTER COLUMN note TYPE integer USING note::integer;",
                         kUsers}),
            "ALTER TABLE users ALTER COLUMN note TYPE bigint USING note::integer;");
}

TEST(RulePreferIdentity, FiresAndNot) {
  const std::string r = "prefer-identity";
  ExpectFires(r, {"CREATE TABLE n (id serial PRIMARY KEY);"});
  ExpectFires(r, {"CREATE TABLE n (a int);\nALTER TABLE n ADD COLUMN id bigserial;"});
  ExpectQuiet(r, {"CREATE TABLE n (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY);"});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN id bigserial;"});   // add-column-serial's
  ExpectQuiet(r, {.sql = "CREATE TABLE n (id serial);", .pg = 9});  // no identity before 10
  EXPECT_EQ(RecipeOf(r, {"CREATE TABLE n (a int);\nALTER TABLE n ADD COLUMN id smallserial;"}),
            "ALTER TABLE n ADD COLUMN id bigint GENERATED BY DEFAULT AS IDENTITY;");
}

TEST(RulePreferTextOverVarchar, FiresAndNot) {
  const std::string r = "prefer-text-over-varchar";
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN note TYPE varchar(20);", kUsers});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN nick varchar;"});
  ExpectQuiet(r, {"CREATE TABLE n (a text, b varchar(10)[]);"});
  // On an existing table the CHECK is added NOT VALID and validated in a later migration.
  EXPECT_EQ(RecipeOf(r, {"ALTER TABLE users ADD COLUMN nick character varying(20) NOT NULL;"}),
            "ALTER TABLE users ADD COLUMN nick text NOT NULL;\n"
            "ALTER TABLE users ADD CONSTRAINT users_nick_length CHECK (char_length(nick) <= 20) "
            "NOT VALID;\n-- in a later migration (post-deploy):\n"
            "ALTER TABLE users VALIDATE CONSTRAINT users_nick_length;");
  // On a table created in this migration there are no rows to validate.
  EXPECT_EQ(RecipeOf(r, {"CREATE TABLE n (a int);\nALTER TABLE n ADD COLUMN b varchar(5);"}),
            "ALTER TABLE n ADD COLUMN b text;\n"
            "ALTER TABLE n ADD CONSTRAINT n_b_length CHECK (char_length(b) <= 5);");
  EXPECT_EQ(RecipeOf(r, {"CREATE TABLE n (id bigint, name varchar(100) NOT NULL);"}),
            "CREATE TABLE n (\n    ...\n    name text NOT NULL,\n    ...\n"
            "    CONSTRAINT n_name_length CHECK (char_length(name) <= 100)\n);");
}

TEST(RulePreferTimestamptz, FiresAndNot) {
  const std::string r = "prefer-timestamptz";
  ExpectFires(r, {"CREATE TABLE n (at timestamp);"});
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN note TYPE timestamp USING now();", kUsers});
  ExpectQuiet(r, {"CREATE TABLE n (at timestamptz, t time, d date);"});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN at timestamp with time zone;"});
  EXPECT_EQ(RecipeOf(r, {"ALTER TABLE users ADD COLUMN at timestamp(3) without time zone NOT "
                         "NULL DEFAULT now();"}),
            "ALTER TABLE users ADD COLUMN at timestamptz(3) NOT NULL DEFAULT now();");
}

TEST(RulePreferTextOverChar, FiresAndNot) {
  const std::string r = "prefer-text-over-char";
  ExpectFires(r, {"CREATE TABLE n (code char(2));"});
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN flag character;"});  // char(1)
  ExpectQuiet(r, {"CREATE TABLE n (c \"char\");"});                  // the one-byte internal type
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN code varchar(2);"});
  EXPECT_EQ(RecipeOf(r, {"CREATE TABLE n (c bpchar DEFAULT 'x');"}),
            "CREATE TABLE n (\n    ...\n    c text DEFAULT 'x',\n    ...\n);");
}

TEST(RuleIdentifierTooLong, FiresAndNot) {
  const std::string r = "identifier-too-long";
  const std::string long64(64, 'a'), fits63(63, 'a');
  ExpectFires(r, {"CREATE TABLE " + long64 + " (id bigint);"});
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN " + long64 + " text;"});
  ExpectFires(r, {"CREATE UNIQUE INDEX " + long64 + " ON users (email);"});
  ExpectFires(r, {"ALTER TABLE users RENAME CONSTRAINT c TO " + long64 + ";"});
  ExpectFires(r, {"CREATE TABLE n (a int);\nALTER TABLE n ADD CONSTRAINT \"" + long64 +
                  "\" CHECK (a > 0);"});
  ExpectQuiet(r, {"CREATE TABLE " + fits63 + " (id bigint);"});
  // Only names the statement gives to new objects; a reference is cut the same way.
  ExpectQuiet(r, {"DROP TABLE " + long64 + ";"});
  ExpectQuiet(r, {"CREATE TABLE n (note text DEFAULT '" + long64 + "');"});
  // A long statement shrinks to its first and last lines and the line that names the object.
  EXPECT_EQ(RecipeOf(r, {"CREATE TABLE n (\n    a int,\n    \"" + long64 +
                         "\" int,\n    b int,\n    c int\n);"}),
            "-- a name of at most 63 bytes, e.g. the one PostgreSQL would keep:\nCREATE TABLE n (\n"
            "    ...\n    \"" +
                fits63 + "\" int,\n    ...\n);");
  auto found = FindingsOf(r, {"CREATE INDEX " + std::string(70, 'X') + " ON users (email);"});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].column, 14);
  EXPECT_EQ(found[0].length, 70);
  EXPECT_EQ(found[0].message, "index name \"" + std::string(70, 'x') +
                                  "\" is 70 bytes; PostgreSQL truncates it to \"" +
                                  std::string(63, 'x') + "\"");
  EXPECT_EQ(found[0].recipe,
            "-- a name of at most 63 bytes, e.g. the one PostgreSQL would keep:\nCREATE INDEX " +
                std::string(63, 'X') + " ON users (email);");
}

TEST(RuleDropNotNull, FiresAndNot) {
  const std::string r = "drop-not-null";
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN email DROP NOT NULL;", kUsers});
  ExpectFires(r, {.sql = "ALTER TABLE users ALTER COLUMN a SET DEFAULT 1, ALTER COLUMN b DROP "
                         "NOT NULL;",
                  .phase = Phase::kPostDeploy});
  ExpectQuiet(r, {"CREATE TABLE n (a int NOT NULL);\nALTER TABLE n ALTER COLUMN a DROP NOT NULL;"});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN email DROP DEFAULT;"});
}

TEST(RuleEnumValueWithoutPosition, FiresAndNot) {
  const std::string r = "enum-value-without-position";
  ExpectFires(r, {"ALTER TYPE mood ADD VALUE 'calm';"});
  ExpectQuiet(r, {"ALTER TYPE mood ADD VALUE 'calm' BEFORE 'sad';"});
  ExpectQuiet(r, {"ALTER TYPE mood ADD VALUE 'calm' AFTER 'happy';"});
  ExpectQuiet(r, {"ALTER TYPE mood RENAME VALUE 'a' TO 'b';"});
  EXPECT_EQ(RecipeOf(r, {"ALTER TYPE s.mood ADD VALUE IF NOT EXISTS 'it''s';"}),
            "ALTER TYPE s.mood ADD VALUE IF NOT EXISTS 'it''s' AFTER '<the value it follows>';");
}

TEST(RuleDuplicateColumnAssignment, FiresAndNot) {
  const std::string r = "duplicate-column-assignment";
  ExpectFires(r, {"UPDATE users SET plan = 'free', plan = 'trial' WHERE id = 1;"});
  ExpectFires(r, {"UPDATE t SET a[1] = 1, a = 2 WHERE id = 1;"});
  ExpectFires(r, {"INSERT INTO t (a, b, a) VALUES (1, 2, 3);"});
  ExpectFires(r, {"CREATE TABLE n (a int, b int, a text);"});
  // PostgreSQL rejects it on a new table too.
  ExpectFires(r, {"CREATE TABLE n (a int);\nUPDATE n SET a = 1, a = 2;"});
  ExpectQuiet(r, {"UPDATE t SET a[1] = 1, a[2] = 2, p.x = 1, p.y = 2 WHERE id = 1;"});
  ExpectQuiet(r, {"UPDATE t SET (a, b) = (1, 2) WHERE id = 1;"});
  ExpectQuiet(r, {"INSERT INTO t (a, b) VALUES (1, 2);"});
  ExpectQuiet(r, {"CREATE TABLE n (a int, \"A\" int);"});
  auto found = FindingsOf(r, {"UPDATE users SET plan = 'free', plan = 'trial' WHERE id = 1;"});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].column, 33);  // the second assignment
}

TEST(RuleCreateDomainWithCheck, FiresAndNot) {
  const std::string r = "create-domain-with-check";
  ExpectFires(r,
              {"CREATE DOMAIN s.code AS text CONSTRAINT c CHECK (value ~ '^[A-Z]+$') NOT NULL;"});
  ExpectQuiet(r, {"CREATE DOMAIN email AS text;"});
  ExpectQuiet(r, {"CREATE DOMAIN id AS bigint NOT NULL;"});
  ExpectQuiet(r, {"ALTER DOMAIN pos ADD CONSTRAINT p CHECK (VALUE > 0) NOT VALID;"});
  EXPECT_EQ(RecipeOf(r, {"CREATE DOMAIN pos AS int CHECK (VALUE > 0 AND VALUE <> 'value'::int);"}),
            "-- use integer for the columns, with the condition as a CHECK on each table:\n"
            "ALTER TABLE <table> ADD CONSTRAINT <table>_<column>_check CHECK (<column> > 0 AND "
            "<column> <> 'value'::int) NOT VALID;\n-- in a later migration (post-deploy):\n"
            "ALTER TABLE <table> VALIDATE CONSTRAINT <table>_<column>_check;");
}

}  // namespace
}  // namespace tandem::lint::testing
