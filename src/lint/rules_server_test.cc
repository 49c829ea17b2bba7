// The rules against the truth: for each claim about a rewrite, an index rebuild, a scan or a
// lock, the same SQL is run on the real PostgreSQL 15 of the test harness and linted, and both
// must agree. A rewrite is a changed relfilenode of the table, an index rebuild a changed
// relfilenode of the index, a scan the server's DEBUG1 "verifying table" message, a lock the
// mode pg_locks shows for the transaction. Regression tests for issue 11 (items in comments).
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "lint/catalog.h"
#include "lint/lint_test_util.h"
#include "sql/parser.h"
#include "testing/harness.h"

namespace tandem::lint::testing {
namespace {

using ::tandem::testing::PgTest;
using ::tandem::testing::RunTandem;
using ::tandem::testing::TempDir;

// What the server did to table t while running a statement.
struct Effect {
  bool ok = true;                  // the statement succeeded
  std::string error;               // its error otherwise
  bool rewritten = false;          // t's relfilenode changed
  std::set<std::string> rebuilt;   // indexes of t whose relfilenode changed
  bool verified = false;           // DEBUG1 "verifying table": a full scan without a rewrite
  std::vector<std::string> debug;  // every DEBUG1 message
  std::set<std::string> locks;     // modes held on t by the transaction after the statement
};

class RuleTruth : public PgTest {
 protected:
  void Exec(pg::Connection& c, const std::string& sql) {
    auto parts = sql::SplitStatements(sql);
    ASSERT_TRUE(parts.ok()) << parts.status().ToString();
    for (const auto& part : *parts) {
      Status s = c.Exec(part.text);
      ASSERT_TRUE(s.ok()) << part.text << ": " << s.ToString();
    }
  }

  std::map<std::string, std::string> Files(pg::Connection& c) {
    auto r = c.Query(
        "SELECT c.relname, c.relfilenode::text FROM pg_class c WHERE c.oid = 't'::regclass "
        "UNION ALL SELECT i.relname, i.relfilenode::text FROM pg_index x JOIN pg_class i ON "
        "i.oid = x.indexrelid WHERE x.indrelid = 't'::regclass");
    std::map<std::string, std::string> out;
    if (!r.ok()) return out;
    for (size_t i = 0; i < r->rows(); ++i) out[r->Get(i, 0)] = r->Get(i, 1);
    return out;
  }

  // Creates the schema with `setup`, then runs `sql` in one transaction after `session` (SET
  // timezone ...), and reports what happened to table t.
  Effect Observe(const std::string& setup, const std::string& sql,
                 const std::string& session = "") {
    Effect e;
    auto c = Connect();
    if (!c) return e;
    Exec(*c, setup);
    if (!session.empty()) Exec(*c, session);
    auto before = Files(*c);
    Exec(*c, "BEGIN");
    Exec(*c, "SET LOCAL client_min_messages = debug1");
    c->TakeNotices();
    auto parts = sql::SplitStatements(sql);
    EXPECT_TRUE(parts.ok());
    for (const auto& part : parts.ok() ? *parts : std::vector<sql::SplitStatement>{}) {
      Status s = c->Exec(part.text);
      if (!s.ok()) {
        e.ok = false;
        e.error = s.message();
        break;
      }
    }
    for (const auto& n : c->TakeNotices()) {
      e.debug.push_back(n.message);
      if (n.message.rfind("verifying table", 0) == 0) e.verified = true;
    }
    if (e.ok) {
      auto locks = c->Query(
          "SELECT mode FROM pg_locks WHERE pid = pg_backend_pid() AND relation = 't'::regclass");
      if (locks.ok()) {
        for (size_t i = 0; i < locks->rows(); ++i) e.locks.insert(locks->Get(i, 0));
      }
    }
    Exec(*c, e.ok ? "COMMIT" : "ROLLBACK");
    auto after = Files(*c);
    for (const auto& [name, file] : before) {
      if (!after.count(name) || after[name] == file) continue;
      if (name == "t")
        e.rewritten = true;
      else
        e.rebuilt.insert(name);
    }
    return e;
  }
};

// The findings of `rule` when `sql` is linted after `prior` (an earlier migration).
std::vector<Finding> Lint(const std::string& rule, const std::string& prior, const std::string& sql,
                          bool transactional = true) {
  std::vector<Finding> out;
  for (auto& f : LintCase({.sql = sql, .prior = prior, .transactional = transactional}).findings) {
    if (f.rule == rule) out.push_back(std::move(f));
  }
  return out;
}

std::string Describe(const Effect& e) {
  std::string out = e.ok ? "ok" : "error: " + e.error;
  out += e.rewritten ? ", rewritten" : ", not rewritten";
  for (const auto& i : e.rebuilt) out += ", rebuilt " + i;
  if (e.verified) out += ", verified";
  for (const auto& m : e.locks) out += ", " + m;
  return out;
}

const char* kRows = "INSERT INTO t SELECT g FROM generate_series(1, 100) g;";

// Items 4 and 11: which type changes rewrite. Each case is run on the server and linted; the
// lint finding must be there exactly when the relfilenode changes.
TEST_F(RuleTruth, TypeChangesRewriteExactlyWhenTheServerDoes) {
  struct Case {
    std::string column, change, session;
  };
  const Case cases[] = {
      // Item 4: no rewrite.
      {"timestamp(0)", "TYPE timestamp(3)", ""},
      {"timestamp(0)", "TYPE timestamp", ""},
      {"timestamptz(0)", "TYPE timestamptz(3)", ""},
      {"timestamptz(3)", "TYPE timestamptz", ""},
      {"time(0)", "TYPE time(3)", ""},
      {"timetz(0)", "TYPE timetz(6)", ""},
      {"interval(0)", "TYPE interval(3)", ""},
      {"citext", "TYPE text", ""},
      {"text", "TYPE citext", ""},
      {"varchar(10)", "TYPE citext", ""},
      {"citext", "TYPE varchar", ""},
      {"varchar(10)", "TYPE text USING c::text", ""},
      {"timestamptz", "TYPE timestamp", "SET TIME ZONE 'UTC'"},
      {"timestamp", "TYPE timestamptz", "SET TIME ZONE 'UTC'"},
      {"timestamp(3)", "TYPE timestamptz", "SET TIME ZONE 'UTC'"},
      {"timestamptz(0)", "TYPE timestamp", "SET TIME ZONE 'UTC'"},
      {"bit(5)", "TYPE varbit", ""},
      {"interval day", "TYPE interval", ""},
      {"numeric(10,2)", "TYPE numeric", ""},
      {"varbit(5)", "TYPE varbit(10)", ""},
      {"cidr", "TYPE inet", ""},
      {"timestamp", "TYPE timestamp(6)", ""},
      {"timestamptz", "TYPE timestamptz(6)", ""},
      {"time", "TYPE time(6)", ""},
      {"interval", "TYPE interval(6)", ""},
      {"interval(3)", "TYPE interval(6)", ""},
      // Rewrites.
      {"bit(5)", "TYPE varbit(8)", ""},
      {"varchar(10)[]", "TYPE text[]", ""},
      {"time", "TYPE time(0)", ""},
      {"inet", "TYPE cidr", ""},
      {"timestamp(3)", "TYPE timestamptz(3)", "SET TIME ZONE 'UTC'"},
      {"timestamp(0)", "TYPE timestamptz(3)", "SET TIME ZONE 'UTC'"},
      {"timestamptz(3)", "TYPE timestamp(0)", "SET TIME ZONE 'UTC'"},
      {"interval", "TYPE interval(3)", ""},
      {"timestamp(3)", "TYPE timestamp(0)", ""},
      {"citext", "TYPE varchar(10)", ""},
      {"varchar(10)", "TYPE text USING lower(c)", ""},
      {"timestamptz", "TYPE timestamp", "SET TIME ZONE 'America/New_York'"},
      {"timestamp", "TYPE timestamptz", "SET TIME ZONE 'America/New_York'"},
      // Item 11: a USING expression is computed per row, even under UTC.
      {"timestamp", "TYPE timestamptz USING c AT TIME ZONE 'UTC'", "SET TIME ZONE 'UTC'"},
  };
  for (const auto& k : cases) {
    std::string setup = "CREATE EXTENSION IF NOT EXISTS citext;\nCREATE TABLE t (id int, c " +
                        k.column + ");\n" + kRows;
    std::string alter = "ALTER TABLE t ALTER COLUMN c " + k.change + ";";
    Effect e = Observe(setup, alter, k.session);
    ASSERT_TRUE(e.ok) << alter << ": " << e.error;
    // The session's SET is part of the linted migration (lint knows the time zone only so).
    std::string sql = (k.session.empty() ? "" : k.session + ";\n") + alter;
    auto found = Lint("change-column-type", "CREATE TABLE t (id int, c " + k.column + ");", sql);
    bool says_rewrite = false;
    for (const auto& f : found) says_rewrite |= f.message.find("rewrites") != std::string::npos;
    EXPECT_EQ(says_rewrite, e.rewritten)
        << k.column << " -> " << k.change << " [" << k.session << "]: server " << Describe(e);
    Exec(*Connect(), "DROP TABLE t");
  }
}

// Item 9: binary-coercible changes that keep the table's files but rebuild an index. The
// finding says so (not "rewrites the table") and gives the drop / alter / recreate recipe.
TEST_F(RuleTruth, CatalogOnlyTypeChangesThatRebuildAnIndex) {
  struct Case {
    std::string column, index, change, session;
    bool rebuilt;
  };
  const Case cases[] = {
      {"varchar(10)", "CREATE INDEX t_c ON t (lower(c));", "TYPE text", "", true},
      {"varchar(10)", "CREATE INDEX t_c ON t (id) WHERE c IS NOT NULL;", "TYPE varchar(20)", "",
       true},
      {"timestamp", "CREATE INDEX t_c ON t (c);", "TYPE timestamptz", "SET TIME ZONE 'UTC'", true},
      {"citext", "CREATE INDEX t_c ON t (c);", "TYPE text", "", true},
      {"bit(5)", "CREATE INDEX t_c ON t (c);", "TYPE varbit", "", true},
      {"cidr", "CREATE INDEX t_c ON t (c);", "TYPE inet", "", false},
      {"text", "CREATE INDEX t_c ON t (c);", "TYPE varchar", "", false},
      {"varchar(10)", "CREATE INDEX t_c ON t (c);", "TYPE text", "", false},
      {"varchar(10)", "CREATE INDEX t_c ON t (c);", "TYPE varchar(20)", "", false},
      {"timestamp(0)", "CREATE INDEX t_c ON t (c);", "TYPE timestamp(3)", "", false},
  };
  for (const auto& k : cases) {
    std::string table = "CREATE EXTENSION IF NOT EXISTS citext;\nCREATE TABLE t (id int, c " +
                        k.column + ");\n" + k.index;
    std::string alter = "ALTER TABLE t ALTER COLUMN c " + k.change + ";";
    Effect e = Observe(table + "\n" + kRows, alter, k.session);
    Exec(*Connect(), "DROP TABLE t");
    ASSERT_TRUE(e.ok) << alter << ": " << e.error;
    EXPECT_FALSE(e.rewritten) << alter;
    EXPECT_EQ(e.rebuilt.count("t_c") == 1, k.rebuilt) << k.index << " " << alter;
    std::string sql = (k.session.empty() ? "" : k.session + ";\n") + alter;
    auto found = Lint("change-column-type", table, sql);
    ASSERT_EQ(found.size(), k.rebuilt ? 1u : 0u) << k.index << " " << alter;
    if (!k.rebuilt) continue;
    EXPECT_NE(found[0].message.find("rebuilds index \"t_c\""), std::string::npos)
        << found[0].message;
    EXPECT_EQ(found[0].message.find("rewrites"), std::string::npos) << found[0].message;
    EXPECT_NE(found[0].lock.find("ACCESS EXCLUSIVE"), std::string::npos);
    EXPECT_NE(found[0].recipe.find("DROP INDEX CONCURRENTLY t_c;"), std::string::npos);
    EXPECT_NE(found[0].recipe.find("CREATE INDEX CONCURRENTLY t_c ON t"), std::string::npos)
        << found[0].recipe;
    EXPECT_EQ(e.locks.count("AccessExclusiveLock"), 1u);
    // Under UTC only: the recipe's ALTER sets the time zone again.
    EXPECT_EQ(found[0].recipe.find("SET TIME ZONE 'UTC';") != std::string::npos, !k.session.empty())
        << found[0].recipe;
  }
  // The recipe, run on the server: the type change alone then rebuilds nothing.
  Effect split =
      Observe("CREATE TABLE t (id int, c varchar(10));\nCREATE INDEX t_c ON t (lower(c));\n" +
                  std::string(kRows) + "\nDROP INDEX t_c;",
              "ALTER TABLE t ALTER COLUMN c TYPE text;");
  EXPECT_FALSE(split.rewritten);
  EXPECT_TRUE(split.rebuilt.empty());
  // And lint, given the recipe's first two steps, is quiet about the type change.
  EXPECT_TRUE(Lint("change-column-type",
                   "CREATE TABLE t (id int, c varchar(10));\nCREATE INDEX t_c ON t (lower(c));\n"
                   "DROP INDEX CONCURRENTLY t_c;",
                   "ALTER TABLE t ALTER COLUMN c TYPE text;")
                  .empty());
}

// Item 10: a type change re-checks the validated CHECK constraints that read the column: a full
// scan under ACCESS EXCLUSIVE even when nothing is rewritten. NOT VALID ones are not re-checked.
TEST_F(RuleTruth, TypeChangeReChecksCheckConstraints) {
  std::string table =
      "CREATE TABLE t (id int, c varchar(10));\n"
      "ALTER TABLE t ADD CONSTRAINT t_c_len CHECK (char_length(c) < 100);";
  std::string alter = "ALTER TABLE t ALTER COLUMN c TYPE varchar(20);";
  Effect e = Observe(table + "\n" + kRows, alter);
  ASSERT_TRUE(e.ok) << e.error;
  EXPECT_FALSE(e.rewritten);
  EXPECT_TRUE(e.verified) << Describe(e);
  auto found = Lint("change-column-type", table, alter);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].message.find("re-checks CHECK constraint \"t_c_len\""), std::string::npos)
      << found[0].message;
  // The recipe: drop, change, re-add NOT VALID (the VALIDATE comes later): no scan.
  Exec(*Connect(), "DROP TABLE t");
  std::string recipe = found[0].recipe.substr(0, found[0].recipe.find("-- in a later"));
  Effect fixed = Observe(table + "\n" + kRows, recipe);
  ASSERT_TRUE(fixed.ok) << fixed.error << "\n" << recipe;
  EXPECT_FALSE(fixed.verified) << recipe;
  EXPECT_TRUE(Lint("change-column-type", table, recipe).empty()) << recipe;
  Exec(*Connect(), "DROP TABLE t");

  // Quiet: a NOT VALID check, or a check on another column.
  for (const char* check : {"CHECK (char_length(c) < 100) NOT VALID", "CHECK (id > 0)"}) {
    std::string other = "CREATE TABLE t (id int, c varchar(10));\nALTER TABLE t ADD CONSTRAINT k " +
                        std::string(check) + ";";
    Effect q = Observe(other + "\n" + kRows, alter);
    EXPECT_FALSE(q.verified) << check;
    EXPECT_TRUE(Lint("change-column-type", other, alter).empty()) << check;
    Exec(*Connect(), "DROP TABLE t");
  }
}

// Item 3: a validated CHECK (col IS NOT NULL) makes SET NOT NULL scan-free, wherever lint
// learns of it: the same file, an earlier migration on a table it never saw created, or the
// live catalog; and tandem's own recipe passes its own rule.
TEST_F(RuleTruth, SetNotNullAfterAValidatedCheckDoesNotScan) {
  const std::string r = "set-not-null-scan";
  Effect scan = Observe("CREATE TABLE t (id int);\n" + std::string(kRows),
                        "ALTER TABLE t ALTER COLUMN id SET NOT NULL;");
  EXPECT_TRUE(scan.verified) << Describe(scan);
  EXPECT_EQ(Lint(r, "", "ALTER TABLE t ALTER COLUMN id SET NOT NULL;").size(), 1u);
  Exec(*Connect(), "DROP TABLE t");

  std::string check = "ALTER TABLE t ADD CONSTRAINT t_id_nn CHECK (id IS NOT NULL);";
  Effect free = Observe("CREATE TABLE t (id int);\n" + std::string(kRows) + "\n" + check,
                        "ALTER TABLE t ALTER COLUMN id SET NOT NULL;");
  EXPECT_FALSE(free.verified) << Describe(free);
  bool proved = false;
  for (const auto& m : free.debug) proved |= m.find("are sufficient to prove") != std::string::npos;
  EXPECT_TRUE(proved);
  // Earlier in the same file, or in an earlier migration on a table created before the linted
  // history.
  EXPECT_TRUE(Lint(r, "", check + "\nALTER TABLE t ALTER COLUMN id SET NOT NULL;").empty());
  EXPECT_TRUE(Lint(r, check, "ALTER TABLE t ALTER COLUMN id SET NOT NULL;").empty());
  // tandem's recipe, as set-not-null-scan prints it, split over two migrations.
  auto first = Lint(r, "", "ALTER TABLE t ALTER COLUMN id SET NOT NULL;");
  ASSERT_EQ(first.size(), 1u);
  std::string recipe = first[0].recipe;
  size_t later = recipe.find("-- in a later transaction");
  ASSERT_NE(later, std::string::npos) << recipe;
  EXPECT_TRUE(Lint(r, recipe.substr(0, later), recipe.substr(later)).empty()) << recipe;
  // NOT VALID proves nothing.
  EXPECT_EQ(Lint(r, "ALTER TABLE t ADD CONSTRAINT t_id_nn CHECK (id IS NOT NULL) NOT VALID;",
                 "ALTER TABLE t ALTER COLUMN id SET NOT NULL;")
                .size(),
            1u);
  // The live catalog: u has a validated CHECK (id IS NOT NULL), w has none.
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  Exec(*c,
       "CREATE TABLE u (id int);\nALTER TABLE u ADD CONSTRAINT u_id_nn CHECK (id IS NOT NULL);\n"
       "CREATE TABLE w (id int);");
  auto catalog = ReadCatalog(*c);
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  auto with_catalog = [&](const std::string& sql) {
    LintUnit unit;
    unit.info.file = "2_set.sql";
    unit.text = sql;
    LintOptions options;
    options.threads = 1;
    options.version.major = 15;
    size_t n = 0;
    for (const auto& f : LintSequences({{unit}}, *catalog, options).findings) n += f.rule == r;
    return n;
  };
  EXPECT_EQ(with_catalog("ALTER TABLE u ALTER COLUMN id SET NOT NULL;"), 0u);
  EXPECT_EQ(with_catalog("ALTER TABLE w ALTER COLUMN id SET NOT NULL;"), 1u);
}

// Item 2: tables made by CREATE TABLE AS and SELECT INTO are new: nobody else can see them
// until the migration commits, so keys, NOT NULL and indexes on them block nobody.
TEST_F(RuleTruth, TablesFromCreateTableAsAndSelectIntoAreNew) {
  for (const std::string create :
       {"CREATE TABLE n AS SELECT g AS id FROM generate_series(1, 10) g;",
        "SELECT g AS id INTO n FROM generate_series(1, 10) g;"}) {
    std::string sql = create +
                      "\nALTER TABLE n ALTER COLUMN id SET NOT NULL;\n"
                      "ALTER TABLE n ADD PRIMARY KEY (id);\nCREATE INDEX n_id ON n (id);";
    auto c = Connect();
    ASSERT_NE(c, nullptr);
    Exec(*c, sql);  // valid SQL on the server
    Exec(*c, "DROP TABLE n");
    auto report = LintCase({sql});
    for (const auto& f : report.findings)
      EXPECT_NE(f.severity, Severity::kError) << create << ": " << f.rule << " " << f.message;
  }
}

// Item 5: VACUUM (FULL FALSE) is a plain VACUUM (no rewrite); VACUUM (FULL) rewrites.
TEST_F(RuleTruth, VacuumFullFalseIsPlainVacuum) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  Exec(*c, "CREATE TABLE t (id int);\n" + std::string(kRows));
  auto before = Files(*c);
  Exec(*c, "VACUUM (FULL FALSE) t");
  EXPECT_EQ(Files(*c)["t"], before["t"]);
  Exec(*c, "VACUUM (FULL) t");
  EXPECT_NE(Files(*c)["t"], before["t"]);
  const std::string r = "vacuum-full-or-cluster";
  for (const char* quiet : {"VACUUM (FULL FALSE) t;", "VACUUM (FULL off) t;", "VACUUM (FULL 0) t;"})
    EXPECT_TRUE(Lint(r, "", quiet, false).empty()) << quiet;
  for (const char* fires : {"VACUUM (FULL) t;", "VACUUM (FULL true) t;", "VACUUM FULL t;"})
    EXPECT_EQ(Lint(r, "", fires, false).size(), 1u) << fires;
}

// Item 6: after COMMIT, CREATE INDEX CONCURRENTLY runs outside a transaction block and the
// server accepts it; lint says transaction-control, not concurrently-in-transaction.
TEST_F(RuleTruth, ConcurrentIndexAfterCommitIsOutsideTheTransaction) {
  std::string sql =
      "ALTER TABLE t ADD COLUMN plan text;\nCOMMIT;\n"
      "CREATE INDEX CONCURRENTLY t_plan ON t (plan);\nBEGIN;";
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  Exec(*c, "CREATE TABLE t (id int);\nBEGIN;\n" + sql + "\nCOMMIT;");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_index WHERE indexrelid = 't_plan'::regclass"), "1");
  EXPECT_TRUE(Lint("concurrently-in-transaction", "", sql).empty());
  EXPECT_FALSE(Lint("transaction-control-in-migration", "", sql).empty());
}

// Item 12: CREATE / ALTER / DROP POLICY take ACCESS EXCLUSIVE on the table.
TEST_F(RuleTruth, PoliciesTakeAccessExclusive) {
  const std::string r = "alter-table-access-exclusive";
  std::string table = "CREATE TABLE t (id int);";
  struct Case {
    std::string setup, sql;
  };
  const Case cases[] = {
      {table, "CREATE POLICY p ON t USING (id > 0);"},
      {table + "\nCREATE POLICY p ON t USING (true);", "ALTER POLICY p ON t USING (id > 0);"},
      {table + "\nCREATE POLICY p ON t USING (true);", "ALTER POLICY p ON t RENAME TO q;"},
      {table + "\nCREATE POLICY p ON t USING (true);", "DROP POLICY p ON t;"},
  };
  for (const auto& k : cases) {
    Effect e = Observe(k.setup, k.sql);
    ASSERT_TRUE(e.ok) << k.sql << ": " << e.error;
    EXPECT_EQ(e.locks.count("AccessExclusiveLock"), 1u) << k.sql << ": " << Describe(e);
    auto found = Lint(r, k.setup, k.sql);
    ASSERT_EQ(found.size(), 1u) << k.sql;
    EXPECT_EQ(found[0].lock, "ACCESS EXCLUSIVE on t");
    Exec(*Connect(), "DROP TABLE t");
  }
  // A table created in the same migration: nobody waits.
  EXPECT_TRUE(Lint(r, "", table + "\nCREATE POLICY p ON t USING (true);").empty());
}

// Item 13: after ALTER SCHEMA ... RENAME, the old app's queries fail.
TEST_F(RuleTruth, RenamingASchemaBreaksTheRunningApp) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  Exec(*c, "CREATE SCHEMA billing;\nCREATE TABLE billing.invoices (id int);");
  ASSERT_TRUE(c->Exec("SELECT * FROM billing.invoices").ok());
  Exec(*c, "ALTER SCHEMA billing RENAME TO invoicing;");
  Status old_app = c->Exec("SELECT * FROM billing.invoices");
  EXPECT_FALSE(old_app.ok());
  EXPECT_NE(old_app.message().find("does not exist"), std::string::npos) << old_app.ToString();
  auto found = Lint("rename-schema", "", "ALTER SCHEMA billing RENAME TO invoicing;");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].recipe.find("CREATE SCHEMA billing"), std::string::npos);
  EXPECT_TRUE(Lint("rename-schema", "", "ALTER SCHEMA billing OWNER TO CURRENT_USER;").empty());
}

// Item 16: every duplicate-column form PostgreSQL rejects; the same statements with each
// column once succeed.
TEST_F(RuleTruth, DuplicateColumnsInEveryFormThePostgresRejects) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  Exec(*c,
       "CREATE TABLE t (id int PRIMARY KEY, a int, b int);\nCREATE TABLE s (id int, a int);\n"
       "CREATE FOREIGN DATA WRAPPER w;\nCREATE SERVER srv FOREIGN DATA WRAPPER w;");
  struct Case {
    std::string bad, good;
  };
  const Case cases[] = {
      {"MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id, a, a) VALUES "
       "(s.id, 1, 2)",
       "MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN INSERT (id, a) VALUES (s.id, 1)"},
      {"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = 1, a = 2",
       "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = 1, b = 2"},
      {"INSERT INTO t (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 1, a = 2",
       "INSERT INTO t (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET a = 1, b = 2"},
      {"CREATE VIEW v (x, x) AS SELECT a, b FROM t", "CREATE VIEW v (x, y) AS SELECT a, b FROM t"},
      {"CREATE VIEW v AS SELECT a, b AS a FROM t", "CREATE VIEW v AS SELECT a, b FROM t"},
      {"SELECT a, b AS a INTO n FROM t", "SELECT a, b INTO n FROM t"},
      {"SELECT t.id, s.id INTO n FROM t JOIN s USING (id)",
       "SELECT t.id, s.a INTO n FROM t JOIN s USING (id)"},
      {"CREATE TABLE n (x, x) AS SELECT a, b FROM t",
       "CREATE TABLE n (x, y) AS SELECT a, b FROM t"},
      {"CREATE FOREIGN TABLE f (a int, a text) SERVER srv",
       "CREATE FOREIGN TABLE f (a int, b text) SERVER srv"},
      // Unaliased constants are all "?column?", calls are named after their function.
      {"CREATE VIEW v AS SELECT 1, 2", "CREATE VIEW v AS SELECT 1 AS one, 2"},
      {"CREATE VIEW v AS SELECT count(*), count(a) FROM t",
       "CREATE VIEW v AS SELECT count(*), max(a) FROM t"},
  };
  const std::string r = "duplicate-column-assignment";
  for (const auto& k : cases) {
    Status bad = c->Exec(k.bad);
    EXPECT_FALSE(bad.ok()) << k.bad;
    EXPECT_EQ(Lint(r, "", k.bad + ";").size(), 1u) << k.bad << " (server: " << bad.message() << ")";
    Status good = c->Exec(k.good);
    EXPECT_TRUE(good.ok()) << k.good << ": " << good.ToString();
    EXPECT_TRUE(Lint(r, "", k.good + ";").empty()) << k.good;
    Exec(*c, "DROP VIEW IF EXISTS v;\nDROP TABLE IF EXISTS n;\nDROP FOREIGN TABLE IF EXISTS f;");
  }
}

// squawk's "adding a field that is not nullable": ADD COLUMN ... NOT NULL DEFAULT then DROP
// DEFAULT leaves the old app's inserts, which do not name the column, failing on NOT NULL.
TEST_F(RuleTruth, DroppingTheDefaultOfANotNullColumnBreaksOldInserts) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  Exec(*c, "CREATE TABLE users (id int);\nINSERT INTO users VALUES (1);");
  const std::string migration =
      "ALTER TABLE users ADD COLUMN foo integer DEFAULT 10 NOT NULL;\n"
      "ALTER TABLE users ALTER COLUMN foo DROP DEFAULT;";
  Exec(*c, migration);
  Status old_insert = c->Exec("INSERT INTO users (id) VALUES (2)");
  EXPECT_EQ(old_insert.sqlstate(), "23502") << old_insert.ToString();
  EXPECT_EQ(Lint("drop-default-pre-deploy", "CREATE TABLE users (id int);", migration).size(), 1u);
}

// ADD COLUMN ... REFERENCES: a column added without a default is NULL in every row and is not
// scanned for violations; with a default it is. Each statement in a fresh session, whose
// pg_stat_xact_user_tables then shows only its own scans.
TEST_F(RuleTruth, ANewColumnWithoutADefaultIsNotScannedForItsForeignKey) {
  const std::string prior =
      "CREATE TABLE ref (id int PRIMARY KEY);\nINSERT INTO ref VALUES (1);\n"
      "CREATE TABLE big (id int);\nINSERT INTO big SELECT g FROM generate_series(1, 20000) g;";
  {
    auto setup = Connect();
    ASSERT_NE(setup, nullptr);
    Exec(*setup, prior);
  }
  struct Case {
    std::string sql;
    bool scans;
  };
  for (const Case& k :
       {Case{"ALTER TABLE big ADD COLUMN a int REFERENCES ref (id)", false},
        Case{"ALTER TABLE big ADD COLUMN b int DEFAULT 1 REFERENCES ref (id)", true}}) {
    auto c = Connect();
    ASSERT_NE(c, nullptr);
    Exec(*c, "BEGIN");
    Exec(*c, k.sql);
    auto scanned = c->Query(
        "SELECT coalesce(sum(seq_tup_read), 0) FROM pg_stat_xact_user_tables WHERE relname = "
        "'big'");
    ASSERT_TRUE(scanned.ok()) << scanned.status().ToString();
    EXPECT_EQ(scanned->Get(0, 0) != "0", k.scans) << k.sql << ": " << scanned->Get(0, 0);
    Exec(*c, "ROLLBACK");
    EXPECT_EQ(Lint("foreign-key-missing-not-valid", prior, k.sql + ";").size(), k.scans ? 1u : 0u)
        << k.sql;
  }
}

// Item 17: volatility is by signature. now(123) is some user's now(integer); a plpgsql
// function declared VOLATILE rewrites the table, a STABLE one does not, and lint follows the
// CREATE FUNCTION it has replayed.
TEST_F(RuleTruth, DefaultVolatilityFollowsTheFunctionSignature) {
  const std::string r = "add-column-volatile-default";
  std::string volatile_now =
      "CREATE TABLE t (id int);\nCREATE FUNCTION now(integer) RETURNS timestamptz VOLATILE "
      "LANGUAGE plpgsql AS $$ BEGIN RETURN clock_timestamp(); END $$;";
  std::string add = "ALTER TABLE t ADD COLUMN at timestamptz DEFAULT now(123);";
  Effect e = Observe(volatile_now + "\n" + kRows, add);
  ASSERT_TRUE(e.ok) << e.error;
  EXPECT_TRUE(e.rewritten);
  EXPECT_EQ(Lint(r, volatile_now, add).size(), 1u);
  EXPECT_EQ(Lint(r, "", add).size(), 1u) << "an unknown function counts as volatile";
  Exec(*Connect(), "DROP TABLE t; DROP FUNCTION now(integer);");

  std::string stable =
      "CREATE TABLE t (id int);\nCREATE FUNCTION plan_default() RETURNS text STABLE "
      "LANGUAGE plpgsql AS $$ BEGIN RETURN 'free'; END $$;";
  std::string add_stable = "ALTER TABLE t ADD COLUMN plan text DEFAULT plan_default();";
  Effect s = Observe(stable + "\n" + kRows, add_stable);
  ASSERT_TRUE(s.ok) << s.error;
  EXPECT_FALSE(s.rewritten);
  EXPECT_TRUE(Lint(r, stable, add_stable).empty());
  EXPECT_EQ(Lint(r, "", add_stable).size(), 1u);
  // The built-in now() is stable: no rewrite, no finding.
  EXPECT_TRUE(Lint(r, "", "ALTER TABLE t ADD COLUMN at2 timestamptz DEFAULT now();").empty());
}

// Item 18: PostgreSQL rejects REINDEX SYSTEM CONCURRENTLY, so the recipe must not suggest it.
TEST_F(RuleTruth, ReindexSystemHasNoConcurrentRecipe) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  Status s = c->Exec("REINDEX SYSTEM CONCURRENTLY " + pg::QuoteIdentifier(database()));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot reindex system catalogs concurrently"), std::string::npos)
      << s.ToString();
  auto found = Lint("reindex-non-concurrently", "", "REINDEX SYSTEM app;", false);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].recipe.find("REINDEX SYSTEM CONCURRENTLY"), std::string::npos)
      << found[0].recipe;
  EXPECT_NE(found[0].lock.find("ACCESS EXCLUSIVE"), std::string::npos) << found[0].lock;
  // It cannot run in a transaction block either.
  ASSERT_TRUE(c->Exec("BEGIN").ok());
  Status in_tx = c->Exec("REINDEX SYSTEM " + pg::QuoteIdentifier(database()));
  EXPECT_NE(in_tx.message().find("cannot run inside a transaction block"), std::string::npos)
      << in_tx.ToString();
  ASSERT_TRUE(c->Exec("ROLLBACK").ok());
  EXPECT_EQ(Lint("concurrently-in-transaction", "", "REINDEX SYSTEM app;").size(), 1u);
  EXPECT_TRUE(Lint("concurrently-in-transaction", "", "REINDEX SYSTEM app;", false).empty());
  EXPECT_TRUE(Lint("concurrently-in-transaction", "", "REINDEX TABLE t;").empty());
}

// Item 14: `tandem up` and `tandem lint` refuse the same files for their transaction control,
// with the same message; and item 1: a wrapper around the whole section passes both.
TEST_F(RuleTruth, LintAndUpAgreeOnTransactionControl) {
  std::vector<std::string> env = {"TANDEM_DATABASE_URL=" + url(), "DATABASE_URL="};
  const char* refused[] = {
      "BEGIN;\nCREATE TABLE a (id int);\n",
      "BEGIN;\nBEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\nCOMMIT;\n",
      "BEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\nBEGIN;\nCREATE TABLE b (id int);\nCOMMIT;\n",
  };
  for (const char* body : refused) {
    TempDir dir;
    dir.Write("db/migrations/1_a.sql",
              std::string("-- migrate:up\n-- tandem:transaction off\n") + body);
    auto up = RunTandem({"up"}, dir.path().string(), env);
    EXPECT_EQ(up.exit_code, 2) << body << up.out << up.err;
    auto lint = RunTandem({"lint", "--format", "json"}, dir.path().string(),
                          {"DATABASE_URL=", "TANDEM_DATABASE_URL="});
    EXPECT_EQ(lint.exit_code, 1) << body << lint.out << lint.err;
    auto json = nlohmann::json::parse(lint.out, nullptr, false);
    ASSERT_FALSE(json.is_discarded()) << lint.out;
    bool same = false;
    for (const auto& f : json["findings"]) {
      if (f["rule"] != "transaction-control-in-migration") continue;
      std::string message = f["message"];
      same |= up.err.find(message) != std::string::npos;
    }
    EXPECT_TRUE(same) << body << "\nup: " << up.err << "\nlint: " << lint.out;
  }
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_class WHERE relname IN ('a', 'b')"), "0");

  TempDir wrapped;
  wrapped.Write("db/migrations/1_a.sql",
                "-- migrate:up\nbegin;\nCREATE TABLE a (id int);\nCREATE INDEX a_id ON a (id);\n"
                "commit;\n");
  auto lint =
      RunTandem({"lint"}, wrapped.path().string(), {"DATABASE_URL=", "TANDEM_DATABASE_URL="});
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
  auto up = RunTandem({"up"}, wrapped.path().string(), env);
  EXPECT_EQ(up.exit_code, 0) << up.out << up.err;
}

// Item 20: --list-rules follows --format.
TEST(LintListRules, JsonThroughTheRealBinary) {
  TempDir dir;
  auto json = RunTandem({"lint", "--list-rules", "--format", "json"}, dir.path().string());
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto parsed = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << json.out;
  ASSERT_EQ(parsed["rules"].size(), AllRules().size());
  EXPECT_EQ(parsed["rules"][0]["id"], AllRules()[0]->id);
  for (const auto& rule : parsed["rules"]) {
    EXPECT_FALSE(rule["severity"].get<std::string>().empty());
    EXPECT_EQ(rule["lock"].get<std::string>().find("{table}"), std::string::npos);
  }
  auto text = RunTandem({"lint", "--list-rules"}, dir.path().string());
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out.find("{"), std::string::npos);
  EXPECT_NE(text.out.find("rename-schema (error): "), std::string::npos);
}

}  // namespace
}  // namespace tandem::lint::testing
