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

TEST(RuleAddColumnVolatileDefault, FiresAndNot) {
  const std::string r = "add-column-volatile-default";
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN t uuid DEFAULT gen_random_uuid();"});
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN t timestamptz DEFAULT clock_timestamp();"});
  ExpectFires(r, {"ALTER TABLE users ADD COLUMN t int DEFAULT 0;", "", Phase::kPreDeploy, 10});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN t int DEFAULT 0;", "", Phase::kPreDeploy, 11});
  ExpectQuiet(r, {"ALTER TABLE users ADD COLUMN t timestamptz DEFAULT now();"});
  ExpectQuiet(
      r, {"CREATE TABLE n (id int);\nALTER TABLE n ADD COLUMN t uuid DEFAULT gen_random_uuid();"});
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
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN created TYPE timestamptz;",
                  std::string(kUsers) + "SET TIME ZONE 'UTC';", Phase::kPreDeploy, 11});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN name TYPE varchar(200);", kUsers});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN name TYPE text;", kUsers});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN name TYPE varchar;", kUsers});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN price TYPE numeric(12,2);", kUsers});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN price TYPE numeric;", kUsers});
  ExpectQuiet(r, {"SET TIME ZONE 'UTC';\nALTER TABLE users ALTER COLUMN created TYPE timestamptz;",
                  kUsers, Phase::kPreDeploy, 12});
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
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN email SET NOT NULL;", with_check,
                  Phase::kPostDeploy, 11});
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
                  std::string(kUsers) +
                      "ALTER TABLE users ADD CONSTRAINT e_nn CHECK (email IS NOT NULL) NOT VALID;",
                  Phase::kPostDeploy});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN email SET NOT NULL;", with_check,
                  Phase::kPostDeploy, 12});
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
  ExpectFires(r, {"ALTER TABLE orders ADD COLUMN user_id bigint REFERENCES users (id);"});
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
  ExpectQuiet(
      r, {"CREATE INDEX CONCURRENTLY i ON users (email);", "", Phase::kPreDeploy, 15, -1, false});
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
  ExpectQuiet(r, {"DROP INDEX CONCURRENTLY i;", "", Phase::kPreDeploy, 15, -1, false});
  ExpectQuiet(r, {"DROP TABLE t;"});
}

TEST(RuleReindexNonConcurrently, VersionAware) {
  const std::string r = "reindex-non-concurrently";
  ExpectFires(r, {"REINDEX INDEX i;"});
  ExpectFires(r, {"REINDEX TABLE t;", "", Phase::kPreDeploy, 11});
  ExpectQuiet(r, {"REINDEX INDEX CONCURRENTLY i;", "", Phase::kPreDeploy, 15, -1, false});
  ExpectQuiet(r, {"CREATE INDEX CONCURRENTLY i ON t (a);", "", Phase::kPreDeploy, 15, -1, false});
  auto old = LintCase({"REINDEX TABLE t;", "", Phase::kPreDeploy, 11});
  EXPECT_EQ(old.findings[0].recipe.find("REINDEX TABLE CONCURRENTLY"), std::string::npos);
}

TEST(RuleConcurrentIndexPg14Corruption, VersionAware) {
  const std::string r = "concurrent-index-pg14-corruption";
  ExpectFires(r, {"CREATE INDEX CONCURRENTLY i ON t (a);", "", Phase::kPreDeploy, 14, 3, false});
  ExpectFires(r, {"REINDEX INDEX CONCURRENTLY i;", "", Phase::kPreDeploy, 14, 0, false});
  ExpectQuiet(r, {"CREATE INDEX CONCURRENTLY i ON t (a);", "", Phase::kPreDeploy, 14, 4, false});
  ExpectQuiet(r, {"CREATE INDEX CONCURRENTLY i ON t (a);", "", Phase::kPreDeploy, 15, -1, false});
}

TEST(RuleDropColumn, PhaseAware) {
  const std::string r = "drop-column";
  ExpectFires(r, {"ALTER TABLE users DROP COLUMN legacy;"});
  ExpectFires(r, {"ALTER TABLE users DROP COLUMN IF EXISTS a, DROP COLUMN b;"});
  ExpectQuiet(r, {"ALTER TABLE users DROP COLUMN legacy;", "", Phase::kPostDeploy});
  ExpectQuiet(r, {"CREATE TABLE n (a int, b int);\nALTER TABLE n DROP COLUMN b;"});
}

TEST(RuleDropTable, PhaseAware) {
  const std::string r = "drop-table";
  ExpectFires(r, {"DROP TABLE sessions;"});
  ExpectFires(r, {"DROP TABLE IF EXISTS a, b CASCADE;"});
  ExpectQuiet(r, {"DROP TABLE sessions;", "", Phase::kPostDeploy});
  ExpectQuiet(r, {"CREATE TABLE tmp (a int);\nDROP TABLE tmp;"});
}

TEST(RuleRenameColumn, FiresAndNot) {
  const std::string r = "rename-column";
  ExpectFires(r, {"ALTER TABLE users RENAME COLUMN name TO full_name;"});
  ExpectFires(r, {"ALTER TABLE users RENAME COLUMN name TO full_name;", "", Phase::kPostDeploy});
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nALTER TABLE n RENAME COLUMN a TO b;"});
  ExpectQuiet(r, {"ALTER INDEX i RENAME TO j;"});
}

TEST(RuleRenameTable, FiresAndNot) {
  const std::string r = "rename-table";
  ExpectFires(r, {"ALTER TABLE users RENAME TO accounts;"});
  ExpectFires(r, {"ALTER TABLE s.users RENAME TO accounts;", "", Phase::kPostDeploy});
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nALTER TABLE n RENAME TO m;"});
  ExpectQuiet(r, {"ALTER TABLE users RENAME COLUMN a TO b;"});
}

TEST(RuleSetNotNullPreDeploy, PhaseAware) {
  const std::string r = "set-not-null-pre-deploy";
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN email SET NOT NULL;", kUsers});
  ExpectFires(r, {"ALTER TABLE other ALTER COLUMN x SET NOT NULL;"});
  ExpectQuiet(r,
              {"ALTER TABLE users ALTER COLUMN email SET NOT NULL;", kUsers, Phase::kPostDeploy});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
                  "CREATE TABLE users (email text DEFAULT '');"});
}

TEST(RuleNarrowColumnTypePreDeploy, PhaseAware) {
  const std::string r = "narrow-column-type-pre-deploy";
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN name TYPE varchar(50);", kUsers});
  ExpectFires(r, {"ALTER TABLE users ALTER COLUMN note TYPE varchar(20);", kUsers});
  ExpectQuiet(
      r, {"ALTER TABLE users ALTER COLUMN name TYPE varchar(50);", kUsers, Phase::kPostDeploy});
  ExpectQuiet(r, {"ALTER TABLE users ALTER COLUMN name TYPE varchar(200);", kUsers});
}

TEST(RuleConcurrentlyInTransaction, TransactionAware) {
  const std::string r = "concurrently-in-transaction";
  ExpectFires(r, {"CREATE INDEX CONCURRENTLY i ON users (email);"});
  ExpectFires(
      r, {"BEGIN;\nDROP INDEX CONCURRENTLY i;\nCOMMIT;", "", Phase::kPreDeploy, 15, -1, false});
  ExpectQuiet(
      r, {"CREATE INDEX CONCURRENTLY i ON users (email);", "", Phase::kPreDeploy, 15, -1, false});
  ExpectQuiet(r, {"CREATE INDEX i ON users (email);"});
}

TEST(RuleDdlAndDataInTransaction, TransactionAware) {
  const std::string r = "ddl-and-data-in-transaction";
  ExpectFires(
      r,
      {"ALTER TABLE users ADD COLUMN plan text;\nUPDATE users SET plan = 'free' WHERE id < 10;"});
  ExpectFires(r, {"CREATE INDEX i ON users (a);\nDELETE FROM users WHERE id = 1;"});
  ExpectQuiet(
      r, {"ALTER TABLE users ADD COLUMN plan text;\nUPDATE users SET plan = 'free' WHERE id < 10;",
          "", Phase::kPreDeploy, 15, -1, false});
  ExpectQuiet(r, {"CREATE TABLE n (a int);\nINSERT INTO n VALUES (1);"});
}

TEST(RuleNotValidValidateSameTransaction, TransactionAware) {
  const std::string r = "not-valid-validate-same-transaction";
  ExpectFires(r, {"ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\nALTER TABLE t VALIDATE "
                  "CONSTRAINT c;"});
  ExpectFires(
      r, {"BEGIN;\nALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES p (id) NOT VALID;\n"
          "ALTER TABLE t VALIDATE CONSTRAINT f;\nCOMMIT;",
          "", Phase::kPreDeploy, 15, -1, false});
  ExpectQuiet(r, {"ALTER TABLE t VALIDATE CONSTRAINT c;"});
  ExpectQuiet(r, {"ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\nALTER TABLE t VALIDATE "
                  "CONSTRAINT c;",
                  "", Phase::kPreDeploy, 15, -1, false});
}

TEST(RuleEnumValueUsedInTransaction, TransactionAndVersionAware) {
  const std::string r = "enum-value-used-in-transaction";
  ExpectFires(r,
              {"ALTER TYPE mood ADD VALUE 'calm';\nUPDATE people SET mood = 'calm' WHERE id = 1;"});
  ExpectFires(r, {"ALTER TYPE mood ADD VALUE 'calm';", "", Phase::kPreDeploy, 11});
  ExpectQuiet(r, {"ALTER TYPE mood ADD VALUE 'calm';", "", Phase::kPreDeploy, 12});
  ExpectQuiet(
      r, {"ALTER TYPE mood ADD VALUE 'calm';\nUPDATE people SET mood = 'calm' WHERE id = 1;", "",
          Phase::kPreDeploy, 15, -1, false});
}

TEST(RuleBackfillOutsideBackground, FiresAndNot) {
  const std::string r = "backfill-outside-background";
  ExpectFires(r, {"UPDATE users SET email_lower = lower(email);"});
  ExpectFires(r, {"DELETE FROM sessions WHERE expired;"});
  ExpectQuiet(r, {"UPDATE users SET a = 1 WHERE id >= :batch_start AND id < :batch_end;", "",
                  Phase::kBackground});
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
  ExpectFires(r, {"VACUUM FULL events;", "", Phase::kPreDeploy, 15, -1, false});
  ExpectFires(r, {"CLUSTER events USING events_pkey;"});
  ExpectQuiet(r, {"VACUUM events;", "", Phase::kPreDeploy, 15, -1, false});
  ExpectQuiet(r, {"ANALYZE events;"});
  auto v19 = LintCase({"CLUSTER events;", "", Phase::kPreDeploy, 19});
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
  ExpectFires(r, {"ALTER TABLE p DETACH PARTITION p1;", "", Phase::kPreDeploy, 13});
  ExpectQuiet(
      r, {"ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;", "", Phase::kPreDeploy, 15, -1, false});
  ExpectQuiet(r, {"ALTER TABLE p ATTACH PARTITION p1 FOR VALUES IN (1);"});
  auto v13 = LintCase({"ALTER TABLE p DETACH PARTITION p1;", "", Phase::kPreDeploy, 13});
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
  ExpectFires(r, {"DROP DATABASE analytics;", "", Phase::kPreDeploy, 15, -1, false});
  ExpectFires(r, {"DROP DATABASE IF EXISTS x;", "", Phase::kPostDeploy, 15, -1, false});
  ExpectQuiet(r, {"DROP SCHEMA analytics;"});
  ExpectQuiet(r, {"CREATE DATABASE x;", "", Phase::kPreDeploy, 15, -1, false});
}

TEST(RuleTransactionControlInMigration, FiresAndNot) {
  const std::string r = "transaction-control-in-migration";
  ExpectFires(r, {"BEGIN;\nALTER TABLE users ADD COLUMN a int;\nCOMMIT;"});
  ExpectFires(r, {"COMMIT;"});
  ExpectQuiet(r, {"BEGIN;\nALTER TABLE users ADD COLUMN a int;\nCOMMIT;", "", Phase::kPreDeploy, 15,
                  -1, false});
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

}  // namespace
}  // namespace tandem::lint::testing
