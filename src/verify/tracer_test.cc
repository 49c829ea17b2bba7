// The tracer against a real PostgreSQL 15: the known truths measured in
// ../shared/research/B_linters.md §2 (appendix B rows in brackets).
#include "verify/tracer.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "sql/parser.h"
#include "testing/harness.h"

namespace tandem::verify {
namespace {

migrate::Migration MakeMigration(const std::string& sql, bool transactional = true) {
  migrate::Migration m;
  m.version = "1";
  m.name = "test";
  m.transactional = transactional;
  auto split = sql::SplitStatements(sql);
  EXPECT_TRUE(split.ok()) << split.status().ToString();
  for (const auto& s : *split) {
    migrate::Statement st;
    st.sql = s.text;
    st.location = {"1_test.sql", s.start.line, s.start.column};
    m.up.statements.push_back(st);
  }
  m.up.present = m.up.split = true;
  return m;
}

bool Has(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

bool HasLock(const StatementTrace& trace, const std::string& relation, LockMode mode) {
  for (const auto& lock : trace.locks) {
    if (lock.relation == relation && lock.mode == mode) return true;
  }
  return false;
}

class VerifyTracerTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    shadow_ = Connect();
    ASSERT_TRUE(shadow_);
    for (const char* sql : {
             "CREATE TABLE parent (id bigint PRIMARY KEY)",
             "INSERT INTO parent SELECT g FROM generate_series(1, 2000) g",
             "CREATE TABLE t (id serial PRIMARY KEY, a int, c varchar(10), j json, nn int, "
             "p bigint, v varchar(10))",
             "CREATE INDEX t_a_idx ON t (a)",
             "CREATE INDEX t_c_idx ON t (c)",
             "INSERT INTO t (a, c, j, nn, p, v) SELECT g, 'c' || (g % 1000), '{}', g, "
             "1 + g % 2000, 'v' FROM generate_series(1, 20000) g",
             "ANALYZE",
         }) {
      ASSERT_TRUE(shadow_->Exec(sql).ok()) << sql;
    }
  }

  MigrationTrace Trace(const std::string& sql, bool transactional = true) {
    auto migration = MakeMigration(sql, transactional);
    auto observer_session = Connect();
    TraceInput input;
    input.shadow = shadow_.get();
    input.observer_session = observer_session.get();
    auto trace = TraceMigration(migration, input);
    EXPECT_TRUE(trace.ok()) << trace.status().ToString();
    return trace.ok() ? *trace : MigrationTrace{};
  }

  std::unique_ptr<pg::Connection> shadow_;
};

TEST_F(VerifyTracerTest, VarcharWideningAndVarcharToTextDoNotRewrite) {  // [86, 87]
  for (const char* sql : {"ALTER TABLE t ALTER COLUMN c TYPE varchar(20)",
                          "ALTER TABLE t ALTER COLUMN v TYPE text"}) {
    auto trace = Trace(sql);
    ASSERT_TRUE(trace.succeeded) << sql;
    const auto& st = trace.statements.at(0);
    EXPECT_TRUE(st.rewrites.empty()) << sql << " rewrote " << st.rewrites.front();
    EXPECT_TRUE(st.scans.empty()) << sql;
    EXPECT_TRUE(HasLock(st, "t", LockMode::kAccessExclusive)) << sql;
  }
}

TEST_F(VerifyTracerTest, LocksAreReportedOnTheStatementThatTookThem) {
  auto trace = Trace(
      "ALTER TABLE t ALTER COLUMN c TYPE varchar(20);\n"
      "ALTER TABLE t ALTER COLUMN v TYPE text;");
  ASSERT_TRUE(trace.succeeded);
  ASSERT_EQ(trace.statements.size(), 2u);
  EXPECT_TRUE(HasLock(trace.statements[0], "t", LockMode::kAccessExclusive));
  // Already held since the first statement: the second takes nothing new, and its trace says
  // the transaction holds it (the app stays blocked on it until COMMIT).
  EXPECT_FALSE(HasLock(trace.statements[1], "t", LockMode::kAccessExclusive));
  EXPECT_TRUE(trace.statements[0].held.empty());
  bool held = false;
  for (const auto& lock : trace.statements[1].held) {
    held |= lock.relation == "t" && lock.kind == "r" && lock.mode == LockMode::kAccessExclusive;
  }
  EXPECT_TRUE(held);
  EXPECT_EQ(trace.statements[0].line, 1);
  EXPECT_EQ(trace.statements[1].line, 2);
  EXPECT_GE(trace.statements[0].held_until_commit_ms, trace.statements[1].held_until_commit_ms);
}

TEST_F(VerifyTracerTest, IntToBigintRewritesTableAndAllIndexes) {  // [88]
  auto trace = Trace("ALTER TABLE t ALTER COLUMN a TYPE bigint");
  ASSERT_TRUE(trace.succeeded);
  const auto& st = trace.statements.at(0);
  for (const char* rel : {"t", "t_pkey", "t_a_idx", "t_c_idx"}) {
    EXPECT_TRUE(Has(st.rewrites, rel)) << rel;
  }
  EXPECT_TRUE(Has(st.scans, "t"));
  EXPECT_TRUE(st.created.empty()) << "an index rebuilt under its name is not a new object";
}

TEST_F(VerifyTracerTest, JsonToJsonbRewritesTableAndAllIndexes) {  // [27]
  auto trace = Trace("ALTER TABLE t ALTER COLUMN j TYPE jsonb USING j::jsonb");
  ASSERT_TRUE(trace.succeeded);
  const auto& st = trace.statements.at(0);
  for (const char* rel : {"t", "t_pkey", "t_a_idx", "t_c_idx"}) {
    EXPECT_TRUE(Has(st.rewrites, rel)) << rel;
  }
}

TEST_F(VerifyTracerTest, SetNotNullScansWithoutValidatedCheck) {  // [28, 30]
  ASSERT_TRUE(shadow_
                  ->Exec("ALTER TABLE t ADD CONSTRAINT nn_check CHECK (nn IS NOT NULL) "
                         "NOT VALID")
                  .ok());
  auto trace = Trace("ALTER TABLE t ALTER COLUMN nn SET NOT NULL");
  ASSERT_TRUE(trace.succeeded);
  EXPECT_TRUE(Has(trace.statements.at(0).scans, "t"));
  EXPECT_TRUE(trace.statements.at(0).rewrites.empty());
}

TEST_F(VerifyTracerTest, SetNotNullDoesNotScanWithValidatedCheck) {  // [29]
  auto trace = Trace(
      "ALTER TABLE t ADD CONSTRAINT nn_check CHECK (nn IS NOT NULL) NOT VALID;\n"
      "ALTER TABLE t VALIDATE CONSTRAINT nn_check;");
  ASSERT_TRUE(trace.succeeded);
  EXPECT_TRUE(HasLock(trace.statements.at(1), "t", LockMode::kShareUpdateExclusive));
  EXPECT_TRUE(Has(trace.statements.at(1).scans, "t"));
  auto set = Trace("ALTER TABLE t ALTER COLUMN nn SET NOT NULL");
  ASSERT_TRUE(set.succeeded);
  EXPECT_TRUE(set.statements.at(0).scans.empty());
}

TEST_F(VerifyTracerTest, ForeignKeyLocksReferencedTableShareRowExclusive) {  // [37, 38]
  auto trace = Trace("ALTER TABLE t ADD CONSTRAINT t_p_fk FOREIGN KEY (p) REFERENCES parent (id)");
  ASSERT_TRUE(trace.succeeded);
  const auto& st = trace.statements.at(0);
  EXPECT_TRUE(HasLock(st, "parent", LockMode::kShareRowExclusive));
  EXPECT_TRUE(HasLock(st, "t", LockMode::kShareRowExclusive));
  EXPECT_TRUE(Has(st.scans, "t"));
  EXPECT_TRUE(Has(st.scans, "parent"));
}

TEST_F(VerifyTracerTest, CreateIndexTakesShareAndCreatesTheIndex) {  // [47]
  auto trace = Trace("CREATE INDEX t_nn_idx ON t (nn)");
  ASSERT_TRUE(trace.succeeded);
  const auto& st = trace.statements.at(0);
  EXPECT_TRUE(HasLock(st, "t", LockMode::kShare));
  EXPECT_FALSE(HasLock(st, "t", LockMode::kAccessExclusive));
  EXPECT_TRUE(Has(st.created, "t_nn_idx (index)"));
  EXPECT_TRUE(Has(st.scans, "t"));
  EXPECT_EQ(BlockedList(LockMode::kShare), (std::vector<std::string>{"writes", "schema changes"}));
}

TEST_F(VerifyTracerTest, CreateIndexConcurrentlyObservedFromSecondSession) {
  ASSERT_TRUE(
      shadow_->Exec("INSERT INTO t (a, nn) SELECT g, g FROM generate_series(1, 200000) g").ok());
  auto trace = Trace("CREATE INDEX CONCURRENTLY t_nn_cidx ON t (nn)", /*transactional=*/false);
  ASSERT_TRUE(trace.succeeded);
  const auto& st = trace.statements.at(0);
  EXPECT_FALSE(st.in_transaction);
  EXPECT_TRUE(HasLock(st, "t", LockMode::kShareUpdateExclusive));
  EXPECT_FALSE(HasLock(st, "t", LockMode::kShare));
  EXPECT_TRUE(Has(st.created, "t_nn_cidx (index)"));
  EXPECT_EQ(QueryValue("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_nn_cidx'::regclass"),
            "t");
}

TEST_F(VerifyTracerTest, FailedStatementRollsBackTheMigration) {
  auto trace = Trace(
      "CREATE TABLE newer (id int);\n"
      "ALTER TABLE t ADD COLUMN z int NOT NULL;");
  EXPECT_FALSE(trace.succeeded);
  ASSERT_EQ(trace.statements.size(), 2u);
  ASSERT_TRUE(trace.statements[1].error.has_value());
  EXPECT_EQ(trace.statements[1].error->sqlstate(), "23502");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_class WHERE relname = 'newer'"), "0");
}

}  // namespace
}  // namespace tandem::verify
