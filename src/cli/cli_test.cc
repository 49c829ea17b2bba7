// The tandem binary end to end against the harness's real PostgreSQL: every issue-2 command,
// exit codes and exact error text.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testing/harness.h"

namespace tandem::testing {
namespace {

class CliTest : public PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    env_ = {"TANDEM_DATABASE_URL=" + url()};
  }
  ProcessOutput Run(const std::vector<std::string>& args) {
    return RunTandem(args, dir_.path().string(), env_);
  }
  void Migration(const std::string& file, const std::string& text) {
    dir_.Write("db/migrations/" + file, text);
  }
  TempDir dir_;
  std::vector<std::string> env_;
};

TEST_F(CliTest, InitNewUpStatusDownRoundTrip) {
  auto init = Run({"init"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_NE(dir_.Read("tandem.toml").find("[release]"), std::string::npos);
  auto created = Run({"new", "create users"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  EXPECT_NE(created.out.find("_create_users.sql"), std::string::npos) << created.out;

  Migration("20240101000000_create_users.sql",
            "-- migrate:up\nCREATE TABLE users (id bigint PRIMARY KEY);\n"
            "-- migrate:down\nDROP TABLE users;\n");
  Migration("20240102000000_add_email.sql",
            "-- migrate:up\nALTER TABLE users ADD COLUMN email text;\n"
            "-- migrate:down\nALTER TABLE users DROP COLUMN email;\n");
  // The file `new` wrote is empty: remove it so it does not count.
  for (const auto& e : std::filesystem::directory_iterator(dir_.path() / "db/migrations"))
    if (e.path().filename().string().find("_create_users.sql") != std::string::npos &&
        e.path().filename().string().rfind("2024", 0) != 0)
      std::filesystem::remove(e.path());

  auto status = Run({"status", "--format", "json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto json = nlohmann::json::parse(status.out);
  ASSERT_EQ(json["migrations"].size(), 2u);
  EXPECT_EQ(json["migrations"][0]["status"], "pending");
  EXPECT_EQ(json["migrations"][0]["phase"], "pre-deploy");
  EXPECT_EQ(json["migrations"][0]["version"], "20240101000000");
  EXPECT_EQ(json["migrations"][0]["name"], "create_users");
  EXPECT_EQ(Run({"status", "--exit-code"}).exit_code, 1);

  auto up = Run({"up"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_NE(up.out.find("applied 20240101000000 create_users"), std::string::npos) << up.out;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.migrations WHERE status = 'succeeded'"), "2");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM information_schema.columns WHERE column_name = "
                       "'email'"),
            "1");
  EXPECT_EQ(Run({"status", "--exit-code"}).exit_code, 0);
  EXPECT_NE(Run({"up"}).out.find("nothing to do"), std::string::npos);

  auto down = Run({"down"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_NE(down.out.find("reverted 20240102000000 add_email"), std::string::npos) << down.out;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM information_schema.columns WHERE column_name = "
                       "'email'"),
            "0");
  EXPECT_EQ(QueryValue("SELECT string_agg(event, ',' ORDER BY id) FROM tandem.events"),
            "applied,applied,reverted");
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  ASSERT_EQ(Run({"down", "--to", "20240101000000"}).exit_code, 0);
  EXPECT_EQ(QueryValue("SELECT status FROM tandem.migrations WHERE version = '20240102000000'"),
            "pending");
  ASSERT_EQ(Run({"down", "--steps", "1"}).exit_code, 0);
  EXPECT_EQ(QueryValue("SELECT to_regclass('users') IS NULL"), "t");
}

TEST_F(CliTest, DryRunChangesNothing) {
  Migration("1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  auto dry = Run({"up", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("would-apply 1 a"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("CREATE TABLE a (id int);"), std::string::npos);
  EXPECT_EQ(QueryValue("SELECT to_regnamespace('tandem') IS NULL"), "t");
}

TEST_F(CliTest, TransactionalFailureLeavesNothingAndRecordsSqlStateAndLine) {
  Migration("1_ok.sql", "-- migrate:up\nCREATE TABLE ok (id int);\n");
  Migration("2_bad.sql",
            "-- migrate:up\nCREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\n"
            "ALTER TABLE half ADD COLUMN b int REFERENCES nosuch (id);\n");
  auto up = Run({"up"});
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_NE(up.err.find("db/migrations/2_bad.sql:4:"), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("relation \"nosuch\" does not exist (SQLSTATE 42P01)"), std::string::npos)
      << up.err;
  EXPECT_EQ(QueryValue("SELECT to_regclass('half') IS NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT to_regclass('ok') IS NOT NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT status || ' ' || error_sqlstate || ' ' || error_line FROM "
                       "tandem.migrations WHERE version = '2'"),
            "failed 42P01 4");
  auto status = Run({"status", "--format", "json"});
  auto json = nlohmann::json::parse(status.out);
  EXPECT_EQ(json["migrations"][1]["status"], "failed");
  EXPECT_EQ(json["migrations"][1]["error"]["sqlstate"], "42P01");
  // Fix the file: the rerun applies it.
  Migration("2_bad.sql", "-- migrate:up\nCREATE TABLE half (id int);\n");
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  EXPECT_EQ(QueryValue("SELECT status || ' ' || attempts FROM tandem.migrations WHERE version = "
                       "'2'"),
            "succeeded 2");
}

TEST_F(CliTest, TransactionOffResumesAtTheFailedStatement) {
  Migration("1_t.sql", "-- migrate:up\nCREATE TABLE t (id int, v int);\n");
  Migration("2_steps.sql",
            "-- tandem:transaction off\n-- migrate:up\n"
            "INSERT INTO t VALUES (1, 1);\n"
            "CREATE INDEX CONCURRENTLY t_v ON t (v);\n"
            "INSERT INTO t VALUES (2, 1/0);\n"
            "INSERT INTO t VALUES (3, 3);\n");
  auto up = Run({"up"});
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_NE(up.err.find("2_steps.sql:5:"), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("SQLSTATE 22012"), std::string::npos) << up.err;
  EXPECT_EQ(QueryValue("SELECT statements_done || '/' || statements_total FROM tandem.migrations "
                       "WHERE version = '2'"),
            "2/4");
  // Editing a statement that already ran is refused, and changes nothing.
  Migration("2_steps.sql",
            "-- tandem:transaction off\n-- migrate:up\n"
            "INSERT INTO t VALUES (1, 100);\n"
            "CREATE INDEX CONCURRENTLY t_v ON t (v);\n"
            "INSERT INTO t VALUES (2, 2);\n"
            "INSERT INTO t VALUES (3, 3);\n");
  auto edited = Run({"up"});
  EXPECT_EQ(edited.exit_code, 2) << edited.err;
  EXPECT_NE(edited.err.find("2_steps.sql:3:1: error: statement 1 of migration 2 was edited after "
                            "it was applied"),
            std::string::npos)
      << edited.err;
  // Fixing only the failed statement resumes at it: statement 1 does not run twice.
  Migration("2_steps.sql",
            "-- tandem:transaction off\n-- migrate:up\n"
            "INSERT INTO t VALUES (1, 1);\n"
            "CREATE INDEX CONCURRENTLY t_v ON t (v);\n"
            "INSERT INTO t VALUES (2, 2);\n"
            "INSERT INTO t VALUES (3, 3);\n");
  auto resumed = Run({"up"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("resumed at statement 3"), std::string::npos) << resumed.out;
  EXPECT_EQ(QueryValue("SELECT string_agg(id::text, ',' ORDER BY id) FROM t"), "1,2,3");
}

TEST_F(CliTest, FailedConcurrentIndexIsReportedWithItsCleanupCommand) {
  Migration("1_t.sql",
            "-- migrate:up\nCREATE TABLE t (id int, v int);\nINSERT INTO t VALUES (1, 1), (2, "
            "1);\n");
  Migration("2_idx.sql",
            "-- tandem:transaction off\n-- migrate:up\nCREATE UNIQUE INDEX CONCURRENTLY t_v_key "
            "ON t (v);\n");
  auto up = Run({"up"});
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_NE(up.err.find("SQLSTATE 23505"), std::string::npos) << up.err;
  EXPECT_NE(up.err.find("DROP INDEX CONCURRENTLY IF EXISTS public.t_v_key;"), std::string::npos)
      << up.err;
  EXPECT_EQ(
      QueryValue("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = 't_v_key'::regclass"),
      "t");
  // Once the data is fixed, the rerun drops the INVALID index concurrently and builds it again
  // (instead of failing with "already exists" forever), and says so.
  ASSERT_TRUE(Connect()->Exec("DELETE FROM t WHERE id = 2").ok());
  auto again = Run({"up"});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(QueryValue("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_v_key'::regclass"),
            "t");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_index WHERE NOT indisvalid"), "0");
}

TEST_F(CliTest, DriftIsRefusedUnlessAllowed) {
  Migration("1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  Migration("1_a.sql", "-- migrate:up\nCREATE TABLE a (id bigint);\n");
  Migration("2_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n");
  auto status = Run({"status", "--format", "json"});
  EXPECT_EQ(nlohmann::json::parse(status.out)["migrations"][0]["status"], "drifted");
  auto up = Run({"up"});
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_NE(up.err.find("applied migrations were edited since they ran: 1"), std::string::npos)
      << up.err;
  EXPECT_EQ(QueryValue("SELECT to_regclass('b') IS NULL"), "t");
  auto allowed = Run({"up", "--allow-drift"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
  EXPECT_NE(allowed.out.find("warning: running despite drifted migrations"), std::string::npos);
}

TEST_F(CliTest, OutOfOrderIsAppliedAndReportedOrRefusedWhenStrict) {
  Migration("1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  Migration("3_c.sql", "-- migrate:up\nCREATE TABLE c (id int);\n");
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  Migration("2_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n");
  auto strict = Run({"up", "--strict-order"});
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_NE(strict.err.find("pending migrations are older than the newest applied one: 2"),
            std::string::npos)
      << strict.err;
  auto up = Run({"up"});
  EXPECT_EQ(up.exit_code, 0);
  EXPECT_NE(up.out.find("out of order"), std::string::npos) << up.out;
  EXPECT_EQ(QueryValue("SELECT out_of_order FROM tandem.migrations WHERE version = '2'"), "t");
}

TEST_F(CliTest, MissingFilesAreReported) {
  Migration("1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  std::filesystem::remove(dir_.path() / "db/migrations/1_a.sql");
  auto status = Run({"status", "--format", "json"});
  EXPECT_EQ(nlohmann::json::parse(status.out)["migrations"][0]["status"], "missing-file");
  EXPECT_EQ(Run({"status", "--exit-code"}).exit_code, 1);
}

// Bad input: a clear message with file and line, exit 2, and the database as it was.
class BadInputTest : public CliTest {
 protected:
  void ExpectRefused(const std::vector<std::string>& args, const std::string& expected) {
    auto r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find(expected), std::string::npos) << "stderr was:\n" << r.err;
    EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_namespace WHERE nspname = 'tandem'"), "0");
    EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_class WHERE relname = 'ok'"), "0");
  }
};

TEST_F(BadInputTest, SqlThatDoesNotParse) {
  Migration("1_ok.sql", "-- migrate:up\nCREATE TABLE ok (id int);\n");
  Migration("2_bad.sql", "-- migrate:up\nCREATE TABLE x (id int);\nALTER TABLE x ADD COLUMN;\n");
  ExpectRefused({"up"}, "db/migrations/2_bad.sql:3:25: error: syntax error");
}

TEST_F(BadInputTest, UnknownDirective) {
  Migration("1_ok.sql", "-- tandem:phaze post-deploy\n-- migrate:up\nCREATE TABLE ok (id int);\n");
  ExpectRefused({"up"}, "1_ok.sql:1:");
  ExpectRefused({"status"}, "unknown directive");
}

TEST_F(BadInputTest, BadDirectiveValue) {
  Migration("1_ok.sql", "-- tandem:transaction maybe\n-- migrate:up\nCREATE TABLE ok (id int);\n");
  ExpectRefused({"up"}, "1_ok.sql:1:");
}

TEST_F(BadInputTest, DuplicateVersions) {
  Migration("1_ok.sql", "-- migrate:up\nCREATE TABLE ok (id int);\n");
  Migration("1_again.sql", "-- migrate:up\nCREATE TABLE again (id int);\n");
  ExpectRefused({"up"}, "1_ok.sql");
}

TEST_F(BadInputTest, FileWithoutUpSection) {
  Migration("1_ok.sql", "CREATE TABLE ok (id int);\n");
  ExpectRefused({"up"}, "1_ok.sql");
}

TEST_F(BadInputTest, UnknownToVersion) {
  Migration("1_ok.sql", "-- migrate:up\nCREATE TABLE ok (id int);\n");
  ExpectRefused({"up", "--to", "42"}, "error: unknown version \"42\"");
}

TEST_F(BadInputTest, MalformedDatabaseUrl) {
  Migration("1_ok.sql", "-- migrate:up\nCREATE TABLE ok (id int);\n");
  auto r = Run({"up", "--database-url", "postgresql://u:hunter2@h:notaport/db?nope=1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("malformed database URL"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
}

TEST_F(BadInputTest, MalformedConfig) {
  Migration("1_ok.sql", "-- migrate:up\nCREATE TABLE ok (id int);\n");
  dir_.Write("tandem.toml", "[migrations]\ndir = \"db/migrations\"\nlayout = \n");
  ExpectRefused({"up"}, "tandem.toml:3:");
}

TEST_F(BadInputTest, MissingMigrationsDirectory) { ExpectRefused({"up"}, "migrations directory"); }

TEST_F(BadInputTest, UnknownLayout) {
  Migration("1_ok.sql", "-- migrate:up\nCREATE TABLE ok (id int);\n");
  ExpectRefused({"up", "--layout", "rails"}, "error: unknown layout \"rails\"");
}

TEST_F(BadInputTest, UnknownFlag) {
  auto r = Run({"up", "--frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
}

TEST_F(CliTest, DownWithoutDownSectionIsRefusedBeforeAnythingIsReverted) {
  Migration("1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n");
  Migration("2_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n");
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  auto down = Run({"down", "--steps", "2"});
  EXPECT_EQ(down.exit_code, 2);
  EXPECT_NE(down.err.find("db/migrations/2_b.sql:1: error: migration 2 has no down section"),
            std::string::npos)
      << down.err;
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_class WHERE relname IN ('a', 'b')"), "2");
}

TEST_F(CliTest, UnreachableDatabaseIsExit3WithHostAndPortButNoPassword) {
  Migration("1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  auto r = RunTandem(
      {"status", "--database-url", "postgresql://app:hunter2@127.0.0.1:1/db?connect_timeout=2"},
      dir_.path().string());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("could not connect to database at 127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << r.err;
}

TEST_F(CliTest, JsonErrorsAreJson) {
  auto r = Run({"up", "--format", "json", "--to", "9"});
  EXPECT_EQ(r.exit_code, 2);
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << r.out;
  EXPECT_EQ(json["error"]["exit_code"], 2);
}

TEST_F(CliTest, HelpAndVersion) {
  auto help = Run({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* command : {"init", "new", "status", "up", "down", "adopt", "dev"})
    EXPECT_NE(help.out.find(command), std::string::npos) << command;
  auto version = Run({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.out.find("tandem "), std::string::npos);
}

}  // namespace
}  // namespace tandem::testing
