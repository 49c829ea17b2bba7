// verify end to end on a real PostgreSQL: old-app compatibility, server-only findings, the
// join with lint, sample rows, sizes from the target; and the real binary with the default
// embedded shadow and --format json.
#include "verify/verify.h"
#include "testing/paths.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "migrate/layouts.h"
#include "migrate/runner.h"
#include "pg/url.h"
#include "testing/harness.h"
#include "verify/shadow.h"

namespace tandem::verify {
namespace {

class VerifyTest : public testing::PgTest {
 protected:
  void TearDown() override {
    if (!shadow_db_.empty())
      Admin()->Exec("DROP DATABASE IF EXISTS " + pg::QuoteIdentifier(shadow_db_) + " WITH (FORCE)");
    PgTest::TearDown();
  }
  std::unique_ptr<pg::Connection> Admin() {
    std::string error;
    auto url = pg::ParseDatabaseUrl(testing::SharedServer(&error)->Url("postgres"));
    return std::move(pg::Connection::Open(*url).value());
  }
  // A second, empty database on the shared server to serve as the shadow.
  std::string ShadowUrl() {
    std::string error;
    if (!shadow_db_.empty()) return testing::SharedServer(&error)->Url(shadow_db_);
    shadow_db_ = database() + "_shadow";
    EXPECT_TRUE(
        Admin()
            ->Exec("CREATE DATABASE " + pg::QuoteIdentifier(shadow_db_) + " TEMPLATE template0")
            .ok());
    return testing::SharedServer(&error)->Url(shadow_db_);
  }
  // Loads dir.path()/db/migrations and applies migrations up to `applied` on the target.
  migrate::MigrationSet Load(const std::string& applied) {
    auto files = migrate::LoadMigrations((dir_.path() / "db/migrations").string());
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    if (!applied.empty()) {
      auto target = Connect();
      migrate::UpOptions up;
      up.to_version = applied;
      auto report = migrate::Up(*target, *files, up);
      EXPECT_TRUE(report.status.ok()) << report.status.ToString();
    }
    return *files;
  }
  // Applies migrations up to `applied` on the target, then verifies the rest against it with
  // a shadow database on the shared server.
  Result<VerifyReport> VerifyAfter(const std::string& applied, VerifyOptions options = {}) {
    auto files = Load(applied);
    options.target_url = url();
    options.shadow_url = ShadowUrl();
    return Verify(files, options);
  }
  const Finding* FindRule(const VerifyReport& report, const std::string& rule) {
    for (const auto& f : report.findings) {
      if (f.rule == rule) return &f;
    }
    return nullptr;
  }

  testing::TempDir dir_;
  std::string shadow_db_;
};

TEST_F(VerifyTest, OldQueriesBrokenByDropAndRenameAreReportedWithTheStatement) {
  dir_.Write(
      "db/migrations/1_base.sql",
      "-- migrate:up\nCREATE TABLE users (id bigserial PRIMARY KEY, name text, email text);\n"
      "CREATE TABLE posts (id bigserial PRIMARY KEY, user_id bigint, title text);\n");
  dir_.Write("db/migrations/2_change.sql",
             "-- migrate:up\n"
             "ALTER TABLE users ADD COLUMN bio text;\n"
             "ALTER TABLE users RENAME COLUMN name TO full_name;\n"
             "DROP TABLE posts;\n"
             "ALTER TABLE users ADD COLUMN nick text;\n"
             "UPDATE users SET nick = 'x';\n"
             "ALTER TABLE users ALTER COLUMN nick SET NOT NULL;\n");
  dir_.Write("queries.sql",
             "SELECT id, name FROM users WHERE id = $1;\n"
             "SELECT title FROM posts WHERE user_id = $1;\n"
             "SELECT id, email FROM users WHERE email = $1;\n"
             "INSERT INTO users (email) VALUES ($1);\n"
             "SELECT * FROM users;\n"
             "BEGIN;\n");
  VerifyOptions options;
  options.old_queries_file = (dir_.path() / "queries.sql").string();
  auto report = VerifyAfter("1", options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->migrations.size(), 1u) << "migration 1 is applied on the target";
  EXPECT_EQ(report->baseline.rfind("schema-only dump", 0), 0u) << report->baseline;
  EXPECT_EQ(report->compat_summary.queries, 6);
  EXPECT_EQ(report->compat_summary.checked, 5);
  EXPECT_EQ(report->compat_summary.skipped, 1);
  ASSERT_EQ(report->compat.size(), 3u);
  EXPECT_EQ(report->compat[0].query, "SELECT id, name FROM users WHERE id = $1");
  EXPECT_EQ(report->compat[0].line, 3);
  EXPECT_EQ(report->compat[0].sqlstate, "42703");
  EXPECT_EQ(report->compat[0].version, "2");
  EXPECT_EQ(report->compat[1].query, "SELECT title FROM posts WHERE user_id = $1");
  EXPECT_EQ(report->compat[1].line, 4);
  EXPECT_EQ(report->compat[1].statement, "DROP TABLE posts");
  EXPECT_EQ(report->compat[2].query, "INSERT INTO users (email) VALUES ($1)");
  EXPECT_EQ(report->compat[2].line, 7);
  EXPECT_NE(report->compat[2].error.find("\"nick\""), std::string::npos);
  EXPECT_TRUE(report->HasErrors());
}

TEST_F(VerifyTest, ServerOnlyFindings) {
  dir_.Write("db/migrations/1_base.sql",
             "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY, nn int);\n"
             "INSERT INTO users SELECT g, g FROM generate_series(1, 1000) g;\n"
             "ALTER TABLE users ADD CONSTRAINT users_nn_check CHECK (nn IS NOT NULL);\n"
             "CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint);\n");
  dir_.Write("db/migrations/2_fk.sql",
             "-- migrate:up\n"
             "ALTER TABLE posts ADD CONSTRAINT posts_user_fk FOREIGN KEY (user_id) REFERENCES "
             "users (id);\n"
             "ALTER TABLE users ALTER COLUMN nn SET NOT NULL;\n");
  auto report = VerifyAfter("1");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const Finding* fk = FindRule(*report, "fk-without-index");
  ASSERT_NE(fk, nullptr);
  EXPECT_EQ(fk->line, 2);
  EXPECT_NE(fk->message.find("posts (user_id)"), std::string::npos) << fk->message;
  const Finding* referenced = FindRule(*report, "lock-referenced-table");
  ASSERT_NE(referenced, nullptr);
  EXPECT_NE(referenced->message.find("users in SHARE ROW EXCLUSIVE"), std::string::npos)
      << referenced->message;
  const Finding* cheap = FindRule(*report, "set-not-null-cheap");
  ASSERT_NE(cheap, nullptr);
  EXPECT_EQ(cheap->line, 3);
  EXPECT_NE(cheap->detail.find("users_nn_check"), std::string::npos);
}

TEST_F(VerifyTest, LintFindingsAreConfirmedOrRefutedByTheTrace) {
  dir_.Write("db/migrations/1_base.sql",
             "-- migrate:up\nCREATE TABLE t (id int PRIMARY KEY, a int, c varchar(10));\n"
             "INSERT INTO t SELECT g, g, 'x' FROM generate_series(1, 1000) g;\n"
             "ANALYZE t;\n");
  dir_.Write("db/migrations/2_types.sql",
             "-- migrate:up\n"
             "ALTER TABLE t ALTER COLUMN a TYPE bigint;\n"
             "ALTER TABLE t ALTER COLUMN c TYPE varchar(20);\n");
  auto report = VerifyAfter("1");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  bool confirmed_bigint = false;
  for (const auto& f : report->findings) {
    if (f.verdict == "static" || f.verdict == "observed") continue;
    if (f.line == 2 && f.verdict == "confirmed") confirmed_bigint = true;
    if (f.line == 3) {
      EXPECT_EQ(f.verdict, "refuted") << f.rule;
      EXPECT_EQ(f.severity, Severity::kInfo) << f.rule;
    }
  }
  EXPECT_TRUE(confirmed_bigint);
  const Finding* rewrite = FindRule(*report, "table-rewrite");
  ASSERT_NE(rewrite, nullptr);
  EXPECT_EQ(rewrite->line, 2);
  // Sizes come from the target: a 1,000-row table is small, so the rewrite is info.
  EXPECT_EQ(rewrite->severity, Severity::kInfo);
  EXPECT_NE(rewrite->message.find("rewrites t (1.0K rows"), std::string::npos) << rewrite->message;
  EXPECT_NE(rewrite->message.find("under ACCESS EXCLUSIVE"), std::string::npos);
}

// Lint's static table of binary-coercible type changes does not list every cast PostgreSQL
// treats as one: integer to oid is, so the server keeps the table's files. Lint's error is
// refuted by the trace (relfilenode unchanged) and drops to info, with the evidence.
TEST_F(VerifyTest, AStaticErrorTheTraceContradictsIsRefuted) {
  dir_.Write("db/migrations/1_base.sql",
             "-- migrate:up\nCREATE TABLE t (id int PRIMARY KEY, o int);\n"
             "INSERT INTO t SELECT g, g FROM generate_series(1, 1000) g;\n");
  dir_.Write("db/migrations/2_retype.sql",
             "-- migrate:up\nALTER TABLE t ALTER COLUMN o TYPE oid;\n");
  auto report = VerifyAfter("1");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const Finding* change = FindRule(*report, "change-column-type");
  ASSERT_NE(change, nullptr);
  EXPECT_EQ(change->version, "2");
  EXPECT_EQ(change->line, 2);
  EXPECT_EQ(change->verdict, "refuted");
  EXPECT_EQ(change->severity, Severity::kInfo);
  EXPECT_FALSE(change->detail.empty()) << "the evidence: what the trace saw";
  EXPECT_EQ(FindRule(*report, "table-rewrite"), nullptr);
  EXPECT_FALSE(report->HasErrors());
}

// A second CREATE TRIGGER on the same table takes no new lock: the first one's SHARE ROW
// EXCLUSIVE is already held, and still blocks the app's writes until COMMIT. Both findings are
// confirmed; none is "refuted" for want of a new lock.
TEST_F(VerifyTest, ALockTheTransactionAlreadyHoldsStillConfirmsTheFinding) {
  dir_.Write(
      "db/migrations/1_base.sql",
      "-- migrate:up\nCREATE TABLE t (id int PRIMARY KEY, v text);\n"
      "INSERT INTO t SELECT g, 'x' FROM generate_series(1, 1000) g;\n"
      "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;\n");
  dir_.Write("db/migrations/2_triggers.sql",
             "-- migrate:up\n"
             "CREATE TRIGGER a BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();\n"
             "CREATE TRIGGER b BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f();\n");
  // Renamed first: the lock is held on the table the trigger names by its new name.
  dir_.Write("db/migrations/3_renamed.sql",
             "-- migrate:up\nALTER TABLE t RENAME TO u;\n"
             "CREATE TRIGGER c BEFORE DELETE ON u FOR EACH ROW EXECUTE FUNCTION f();\n");
  auto report = VerifyAfter("1");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::vector<int> confirmed;
  for (const auto& f : report->findings) {
    if (f.rule != "trigger-on-existing-table") continue;
    EXPECT_EQ(f.verdict, "confirmed") << f.line << ": " << f.detail;
    if (f.verdict == "confirmed") confirmed.push_back(std::stoi(f.version) * 10 + f.line);
    if (f.version == "2" && f.line == 3) {
      EXPECT_NE(f.detail.find("already holds SHARE ROW EXCLUSIVE on t"), std::string::npos)
          << f.detail;
    }
  }
  EXPECT_EQ(confirmed, (std::vector<int>{22, 23, 33}));  // version * 10 + line
}

// varchar to text keeps the table's files but rebuilds an expression index on the column,
// under ACCESS EXCLUSIVE, also when an earlier statement of the transaction already took that
// lock (the statement itself then takes only SHARE, for the rebuild). The finding says so and
// recommends moving the rebuild out, not CREATE INDEX CONCURRENTLY or NOT VALID in its place.
TEST_F(VerifyTest, AnIndexRebuiltByAlterTypeIsReportedUnderAccessExclusive) {
  dir_.Write("db/migrations/1_base.sql",
             "-- migrate:up\nCREATE TABLE t (id int PRIMARY KEY, k varchar(20));\n"
             "CREATE INDEX t_k_lower ON t (lower(k));\n"
             "INSERT INTO t SELECT g, 'k' || g FROM generate_series(1, 2000) g;\n");
  dir_.Write("db/migrations/2_retype.sql",
             "-- migrate:up\nALTER TABLE t ADD COLUMN z int;\n"
             "ALTER TABLE t ALTER COLUMN k TYPE text;\n");
  auto report = VerifyAfter("1");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->migrations.size(), 1u);
  const StatementTrace& retype = report->migrations[0].statements.at(1);
  EXPECT_EQ(retype.rewrites, std::vector<std::string>{"t_k_lower"}) << "the table kept its files";
  const Finding* rebuild = FindRule(*report, "index-rebuild");
  ASSERT_NE(rebuild, nullptr) << ReportToText(*report);
  EXPECT_EQ(rebuild->line, 3);
  EXPECT_NE(rebuild->message.find("rebuilds index t_k_lower of t"), std::string::npos)
      << rebuild->message;
  EXPECT_NE(rebuild->message.find("under ACCESS EXCLUSIVE"), std::string::npos) << rebuild->message;
  EXPECT_NE(rebuild->detail.find("earlier statement"), std::string::npos) << rebuild->detail;
  EXPECT_EQ(rebuild->hint.find("NOT VALID"), std::string::npos) << rebuild->hint;
  EXPECT_EQ(rebuild->hint.find("use CREATE INDEX CONCURRENTLY"), std::string::npos)
      << rebuild->hint;
  EXPECT_NE(rebuild->hint.find("DROP INDEX CONCURRENTLY"), std::string::npos) << rebuild->hint;
  for (const auto& f : report->findings) {
    if (f.version != "2" || f.line != 3) continue;
    EXPECT_NE(f.rule, "table-scan") << "the scan is the rebuild";
    EXPECT_NE(f.verdict, "refuted") << f.rule << ": " << f.detail;
    EXPECT_EQ(f.message.find("under SHARE"), std::string::npos) << f.message;
  }
}

TEST_F(VerifyTest, SampleRowsFillParentsBeforeChildren) {
  auto c = Connect();
  for (const char* sql : {
           "CREATE TYPE mood AS ENUM ('ok', 'sad')",
           "CREATE TABLE parent (id serial PRIMARY KEY, name varchar(20) NOT NULL UNIQUE, "
           "m mood NOT NULL, at timestamptz NOT NULL, u uuid NOT NULL, j jsonb NOT NULL, "
           "flag boolean NOT NULL, tags text[] NOT NULL)",
           "CREATE TABLE child (id bigserial PRIMARY KEY, parent_id int NOT NULL REFERENCES "
           "parent (id), other_id int REFERENCES parent (id), d date NOT NULL, n numeric(10,2))",
       }) {
    ASSERT_TRUE(c->Exec(sql).ok()) << sql;
  }
  std::vector<std::string> warnings;
  ASSERT_TRUE(FillSampleRows(*c, 500, &warnings).ok());
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  EXPECT_EQ(QueryValue("SELECT count(*) FROM parent"), "500");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM child"), "500");
  EXPECT_EQ(QueryValue("SELECT reltuples::int FROM pg_class WHERE relname = 'child'"), "500");
}

// Extension types (tsvector, ltree), a unique bytea, a unique date, a two-column foreign key
// and a one-to-one key all fill; a column no generator can fill (pg_lsn) is named with its
// type, and its table is left empty rather than half-filled.
TEST_F(VerifyTest, SampleRowsFillExtensionTypesUniqueColumnsAndCompositeKeys) {
  auto c = Connect();
  for (const char* sql : {
           "CREATE EXTENSION IF NOT EXISTS ltree",
           "CREATE TABLE doc (id int PRIMARY KEY, body tsvector NOT NULL, path ltree NOT NULL, "
           "hash bytea NOT NULL UNIQUE, a int NOT NULL, b int NOT NULL, UNIQUE (a, b))",
           "CREATE TABLE ref (id int PRIMARY KEY, a int NOT NULL, b int NOT NULL, "
           "FOREIGN KEY (a, b) REFERENCES doc (a, b), doc_id int NOT NULL UNIQUE REFERENCES doc, "
           "d date NOT NULL UNIQUE)",
           "CREATE TABLE odd (id int PRIMARY KEY, l pg_lsn NOT NULL)",
       }) {
    ASSERT_TRUE(c->Exec(sql).ok()) << sql;
  }
  std::vector<std::string> warnings;
  ASSERT_TRUE(FillSampleRows(*c, 200, &warnings).ok());
  EXPECT_EQ(QueryValue("SELECT count(DISTINCT hash) FROM doc"), "200");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM doc WHERE body <> ''::tsvector AND path <> ''"),
            "200");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM ref"), "200");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM odd"), "0");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("public.odd: l (pg_lsn)"), std::string::npos) << warnings[0];
}

// PostgreSQL 16 accepts a subquery in FROM without an alias; 15 does not. Gives the subquery
// the error points at an alias, which changes nothing else, so that lemmy's whole history
// applies on the suite's PostgreSQL 15. false when the error is another one.
bool AliasSubquery(migrate::Migration& m, const Status& error) {
  if (error.message().find("subquery in FROM must have an alias") == std::string::npos)
    return false;
  std::string& text = m.up.text;
  size_t at = 0;
  for (int line = m.up.text_line; line < error.location().line && at != std::string::npos; ++line) {
    at = text.find('\n', at);
    if (at != std::string::npos) ++at;
  }
  if (at == std::string::npos) return false;
  at += static_cast<size_t>(error.location().column - 1);
  if (at >= text.size() || text[at] != '(') return false;
  int depth = 0;
  for (size_t i = at; i < text.size(); ++i) {
    depth += text[i] == '(' ? 1 : text[i] == ')' ? -1 : 0;
    if (depth == 0) {
      text.insert(i + 1, " AS pg15_alias");
      m.up.split = false;
      m.up.statements.clear();
      return true;
    }
  }
  return false;
}

// Sample rows on a real schema: lemmy's whole history (subqueries given the alias PostgreSQL
// 15 needs), then 100 rows asked for per table. Extension types (ltree, tsvector), unique
// bytea, composite and one-to-one foreign keys, and CHECKs wanting one of several nullable
// keys set all have to be satisfied for a table to fill; every table left empty is named.
TEST_F(VerifyTest, CorpusSampleRowsFillNinetyPercentOfLemmysTables) {
  const char* env = std::getenv("TANDEM_CORPUS");
  std::string corpus = env && *env ? env : TANDEM_CORPUS_DIR;
  // Up sections only: some of lemmy's down files do not parse on PostgreSQL 15 either.
  migrate::LoadOptions load;
  load.read_down_files = false;
  auto files = migrate::LoadMigrations(corpus + "/lemmy/migrations", load);
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  auto c = Connect();
  // Diesel's own bookkeeping table, which lemmy's later migrations put a trigger on.
  ASSERT_TRUE(c->Exec("CREATE TABLE __diesel_schema_migrations (version varchar(50) PRIMARY KEY, "
                      "run_on timestamp NOT NULL DEFAULT now())")
                  .ok());
  size_t applied = 0;
  Status stopped;
  for (auto& m : files->migrations) {
    for (int fixes = 0; fixes < 20; ++fixes) {
      stopped = migrate::SplitSections(m);
      if (stopped.ok() || !AliasSubquery(m, stopped)) break;
    }
    if (stopped.ok()) stopped = ApplyUntraced(*c, m);
    if (!stopped.ok()) break;
    ++applied;
  }
  EXPECT_EQ(applied, files->migrations.size()) << stopped.ToString();
  std::vector<std::string> warnings;
  ASSERT_TRUE(FillSampleRows(*c, 100, &warnings).ok());
  auto counts = c->Query(
      "SELECT c.oid::regclass::text, (xpath('/row/n/text()', query_to_xml('SELECT count(*) AS n "
      "FROM ' || c.oid::regclass, false, true, '')))[1]::text::int FROM pg_class c "
      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') "
      "AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
      "AND n.nspname !~ '^pg_' ORDER BY 1");
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  size_t full = 0;
  std::string empty;
  for (size_t r = 0; r < counts->rows(); ++r) {
    if (counts->GetInt(r, 1) >= 100) {
      ++full;
    } else {
      empty += " " + counts->Get(r, 0) + "=" + counts->Get(r, 1);
    }
  }
  std::string all_warnings;
  for (const auto& w : warnings) all_warnings += "\n  " + w;
  double fraction = static_cast<double>(full) / static_cast<double>(counts->rows());
  std::cout << "lemmy: " << applied << " of " << files->migrations.size() << " migrations applied, "
            << full << " of " << counts->rows() << " tables filled with 100 rows (" << fraction
            << "); not filled:" << empty << all_warnings << std::endl;
  EXPECT_GE(fraction, 0.9);
  // Every table left unfilled is named in a warning.
  for (size_t r = 0; r < counts->rows(); ++r) {
    if (counts->GetInt(r, 1) >= 100) continue;
    EXPECT_NE(all_warnings.find(counts->Get(r, 0)), std::string::npos) << counts->Get(r, 0);
  }
}

TEST_F(VerifyTest, CliJsonWithTheDefaultEmbeddedShadow) {
  dir_.Write("db/migrations/1_create.sql",
             "-- migrate:up\nCREATE TABLE accounts (id bigint PRIMARY KEY, email varchar(50));\n"
             "CREATE TABLE orders (id bigint PRIMARY KEY, account_id bigint);\n");
  dir_.Write("db/migrations/2_index.sql",
             "-- migrate:up\nCREATE INDEX orders_account_idx ON orders (account_id);\n"
             "ALTER TABLE accounts ALTER COLUMN email TYPE text;\n");
  dir_.Write("db/migrations/3_concurrent.sql",
             "-- tandem:transaction off\n-- migrate:up\n"
             "CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);\n"
             "COMMENT ON TABLE accounts IS 'people';\n");
  auto out = testing::RunTandem({"verify", "--format", "json", "--sample-rows", "200"},
                                dir_.path().string());
  // Lint's create-index-non-concurrently is an error, and the trace confirms it: exit 1.
  ASSERT_EQ(out.exit_code, 1) << out.out << out.err;
  auto json = nlohmann::json::parse(out.out);
  bool confirmed = false;
  for (const auto& f : json["findings"]) {
    confirmed |= f["rule"] == "create-index-non-concurrently" && f["verdict"] == "confirmed";
  }
  EXPECT_TRUE(confirmed) << out.out;
  EXPECT_NE(json["shadow"].get<std::string>().find("embedded PostgreSQL"), std::string::npos);
  ASSERT_EQ(json["migrations"].size(), 3u);
  EXPECT_TRUE(json["compat"].is_array());
  const auto& index = json["migrations"][1];
  EXPECT_EQ(index["version"], "2");
  const auto& create_index = index["statements"][0];
  EXPECT_EQ(create_index["line"], 2);
  EXPECT_EQ(create_index["sql"], "CREATE INDEX orders_account_idx ON orders (account_id)");
  ASSERT_FALSE(create_index["locks"].empty());
  EXPECT_EQ(create_index["locks"][0]["relation"], "orders");
  EXPECT_EQ(create_index["locks"][0]["mode"], "SHARE");
  EXPECT_EQ(create_index["scans"], nlohmann::json::array({"orders"}));
  EXPECT_TRUE(create_index["rewrites"].empty());
  EXPECT_TRUE(create_index["duration_ms"].is_number());
  const auto& concurrent = json["migrations"][2]["statements"][0];
  EXPECT_EQ(concurrent["in_transaction"], false);
  ASSERT_TRUE(concurrent["locks"].is_array() && !concurrent["locks"].empty()) << concurrent;
  EXPECT_EQ(concurrent["locks"][0]["mode"], "SHARE UPDATE EXCLUSIVE");
  // Autocommit statements' scans come from the cumulative counters, flushed around each one.
  EXPECT_EQ(concurrent["scans"], nlohmann::json::array({"accounts"})) << concurrent;
  for (const auto& f : json["findings"]) {
    if (f["rule"] != "table-scan" || f["version"] != "3") continue;
    EXPECT_EQ(f["severity"], "info") << f;  // SHARE UPDATE EXCLUSIVE: writes go on
    EXPECT_FALSE(f.contains("hint") && !f["hint"].get<std::string>().empty()) << f;
  }
  const auto& comment = json["migrations"][2]["statements"][1];
  EXPECT_EQ(comment["line"], 4);
  EXPECT_TRUE(comment["scans"].empty()) << comment;

  auto text = testing::RunTandem({"verify"}, dir_.path().string());
  EXPECT_EQ(text.exit_code, 1) << text.err;
  EXPECT_NE(text.out.find("locks: orders SHARE"), std::string::npos) << text.out;
}

TEST_F(VerifyTest, CliExitsOneWhenAMigrationFailsOnTheShadow) {
  dir_.Write("db/migrations/1_bad.sql",
             "-- migrate:up\nCREATE TABLE a (id int);\nALTER TABLE a ADD COLUMN b int REFERENCES "
             "nope (id);\n");
  auto out = testing::RunTandem({"verify", "--shadow-url", ShadowUrl()}, dir_.path().string());
  EXPECT_EQ(out.exit_code, 1) << out.out << out.err;
  EXPECT_NE(out.out.find("relation \"nope\" does not exist"), std::string::npos) << out.out;
  auto missing = testing::RunTandem(
      {"verify", "--old-queries", "/nonexistent.sql", "--shadow-url", ShadowUrl()},
      dir_.path().string());
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
}

// Seed data written as pg_dump writes it (COPY ... FROM stdin, its rows, \.) goes through the
// COPY protocol on the shadow too.
TEST_F(VerifyTest, InlineCopyRowsAreLoadedOnTheShadow) {
  dir_.Write("db/migrations/1_seed.sql",
             "-- migrate:up\nCREATE TABLE colors (id int, name text);\n"
             "COPY colors (id, name) FROM stdin;\n1\tred\n2\tgreen\n\\.\n");
  dir_.Write("db/migrations/2_more.sql",
             "-- migrate:up\nALTER TABLE colors ADD COLUMN hex text;\n");
  auto out = testing::RunTandem({"verify", "--format", "json", "--shadow-url", ShadowUrl()},
                                dir_.path().string());
  EXPECT_EQ(out.exit_code, 0) << out.out << out.err;
  EXPECT_EQ(out.out.find("COPY to or from the client is not supported"), std::string::npos)
      << out.out;
}

}  // namespace
}  // namespace tandem::verify
