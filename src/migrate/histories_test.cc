// Real histories as they are, through the real binary against the real server: down sections
// that do not parse, down-only edits, each layout's own order, COPY rows inline, psql
// meta-commands, the hint for a missing down section and the status table's widths.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "base/sha256.h"
#include "testing/harness.h"

namespace tandem::testing {
namespace {

class HistoriesTest : public PgTest {
 protected:
  std::vector<std::string> Env() { return {"TANDEM_DATABASE_URL=" + url()}; }
  ProcessOutput Run(const std::vector<std::string>& args) {
    return RunTandem(args, dir_.path().string(), Env());
  }
  nlohmann::json StatusJson() {
    auto r = Run({"status", "--format", "json"});
    auto json = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(json.is_discarded()) << r.out << r.err;
    return json;
  }
  std::string Statuses() {
    return QueryValue(
        "SELECT string_agg(version || ':' || status, ',' ORDER BY version) FROM "
        "tandem.migrations");
  }
  bool Contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }
  TempDir dir_;
};

// One missing `;` in a Diesel down.sql: `up` and `release` apply the pending migrations anyway
// (applying never runs a down section), `down` refuses it with exit 2 naming the place before
// reverting anything, and `lint` reports it as a syntax error.
TEST_F(HistoriesTest, DownSectionThatDoesNotParseBlocksOnlyDown) {
  dir_.Write("db/migrations/2024-01-01-000000_a/up.sql", "CREATE TABLE a (id int);\n");
  dir_.Write("db/migrations/2024-01-01-000000_a/down.sql",
             "DROP TABLE a\nDROP TABLE b;\n");  // a missing semicolon
  dir_.Write("db/migrations/2024-01-02-000000_b/up.sql", "CREATE TABLE b (id int);\n");
  dir_.Write("db/migrations/2024-01-02-000000_b/down.sql", "DROP TABLE b;\n");
  auto up = Run({"up", "--to", "20240101000000"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  auto release = Run({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(Statuses(), "20240101000000:succeeded,20240102000000:succeeded");

  // Reverting both: the broken down section is found before b is reverted.
  auto down = Run({"down", "--steps", "2"});
  EXPECT_EQ(down.exit_code, 2) << down.out << down.err;
  EXPECT_TRUE(Contains(down.err, "db/migrations/2024-01-01-000000_a/down.sql:2:1: error: "))
      << down.err;
  EXPECT_TRUE(Contains(down.err, "syntax error at or near \"DROP\" (SQLSTATE 42601)")) << down.err;
  EXPECT_EQ(QueryValue("SELECT to_regclass('a') IS NOT NULL AND to_regclass('b') IS NOT NULL"),
            "t");
  EXPECT_EQ(Statuses(), "20240101000000:succeeded,20240102000000:succeeded");

  auto lint = Run({"lint", "db/migrations", "--format", "json"});
  EXPECT_NE(lint.exit_code, 0) << lint.out;
  auto findings = nlohmann::json::parse(lint.out)["findings"];
  bool found = false;
  for (const auto& f : findings) {
    if (f["rule"] == "syntax-error" && f["file"] == "db/migrations/2024-01-01-000000_a/down.sql") {
      found = true;
      EXPECT_EQ(f["line"], 2);
      EXPECT_EQ(f["column"], 1);
      EXPECT_EQ(f["severity"], "error");
    }
  }
  EXPECT_TRUE(found) << lint.out;

  // A pending migration's broken down section does not stop release either (its lint gate
  // judges what release runs).
  dir_.Write("db/migrations/2024-01-03-000000_c/up.sql", "CREATE TABLE c (id int);\n");
  dir_.Write("db/migrations/2024-01-03-000000_c/down.sql", "DROP TABLE c DROP;\n");
  release = Run({"release"});
  EXPECT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(QueryValue("SELECT to_regclass('c') IS NOT NULL"), "t");
  dir_.Write("db/migrations/2024-01-03-000000_c/down.sql", "DROP TABLE c;\n");

  // Fixing the down section makes down work.
  dir_.Write("db/migrations/2024-01-01-000000_a/down.sql", "DROP TABLE a;\n");
  down = Run({"down", "--steps", "3"});
  EXPECT_EQ(down.exit_code, 0) << down.out << down.err;
  EXPECT_EQ(QueryValue("SELECT to_regclass('a') IS NULL AND to_regclass('b') IS NULL AND "
                       "to_regclass('c') IS NULL"),
            "t");
}

// Editing only the down section of an applied migration is not drift: status says the down
// section changed (text and JSON) and `up` goes on; editing the up section still is drift.
TEST_F(HistoriesTest, DownOnlyEditIsAChangedDownSectionNotDrift) {
  const std::string up = "-- migrate:up\nCREATE TABLE a (id int);\n";
  dir_.Write("db/migrations/1_a.sql", up + "-- migrate:down\nDROP TABLE a\n");
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  auto json = StatusJson();
  EXPECT_EQ(json["migrations"][0]["status"], "applied");
  EXPECT_EQ(json["migrations"][0]["down_changed"], false);

  dir_.Write("db/migrations/1_a.sql", up + "-- migrate:down\nDROP TABLE a;\n");
  json = StatusJson();
  EXPECT_EQ(json["migrations"][0]["status"], "applied") << json.dump();
  EXPECT_EQ(json["migrations"][0]["down_changed"], true);
  EXPECT_EQ(json["summary"]["drifted"], 0);
  auto text = Run({"status"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_TRUE(Contains(text.out, "applied (down section changed)")) << text.out;
  dir_.Write("db/migrations/2_b.sql",
             "-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n");
  auto r = Run({"up"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Statuses(), "1:succeeded,2:succeeded");
  // The new down section is what `down` runs.
  r = Run({"down", "--steps", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(QueryValue("SELECT to_regclass('a') IS NULL"), "t");
  ASSERT_EQ(Run({"up"}).exit_code, 0);

  dir_.Write("db/migrations/1_a.sql",
             "-- migrate:up\nCREATE TABLE a (id bigint);\n-- migrate:down\nDROP TABLE a;\n");
  json = StatusJson();
  EXPECT_EQ(json["migrations"][0]["status"], "drifted");
  EXPECT_EQ(Run({"up"}).exit_code, 1);
}

// History rows recorded before up and down were checksummed apart hold the whole file's
// SHA-256: an unchanged file still matches them, nothing is lost or rewritten.
TEST_F(HistoriesTest, ChecksumsRecordedTheOldWayStillMatch) {
  const std::string file =
      "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n";
  dir_.Write("db/migrations/1_a.sql", file);
  ASSERT_EQ(Run({"up"}).exit_code, 0);
  auto c = Connect();
  ASSERT_TRUE(c->Exec("UPDATE tandem.migrations SET checksum = $1", {Sha256Hex(file)}).ok());
  auto json = StatusJson();
  EXPECT_EQ(json["migrations"][0]["status"], "applied") << json.dump();
  EXPECT_EQ(json["migrations"][0]["down_changed"], false);
  // The whole-file checksum cannot say which part changed: an edit is drift, as before.
  dir_.Write("db/migrations/1_a.sql", file + "-- a comment\n");
  EXPECT_EQ(StatusJson()["migrations"][0]["status"], "drifted");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.migrations"), "1");
}

// Diesel orders versions as strings: 14- and 18-digit versions mixed stay in date order, so
// after adopting Diesel's history nothing is "out of order", and `tandem new` writes an
// 18-digit version that sorts last.
TEST_F(HistoriesTest, DieselMixedVersionWidthsKeepDieselsOrder) {
  for (const char* d : {"2025-06-01-000000_a", "2025-12-31-120000-0000_b", "2026-01-02-000000_c",
                        "2026-01-03-000000-0001_d"}) {
    dir_.Write(std::string("db/migrations/") + d + "/up.sql", "SELECT 1;\n");
    dir_.Write(std::string("db/migrations/") + d + "/down.sql", "SELECT 1;\n");
  }
  auto c = Connect();
  ASSERT_TRUE(c->Exec("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY "
                      "KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)")
                  .ok());
  ASSERT_TRUE(c->Exec("INSERT INTO __diesel_schema_migrations (version) VALUES "
                      "('20250601000000'), ('202512311200000000'), ('20260102000000')")
                  .ok());
  auto adopt = Run({"adopt", "--from", "diesel"});
  ASSERT_EQ(adopt.exit_code, 0) << adopt.err;
  auto json = StatusJson();
  ASSERT_EQ(json["migrations"].size(), 4u) << json.dump();
  std::vector<std::string> versions;
  for (const auto& m : json["migrations"]) {
    versions.push_back(m["version"]);
    EXPECT_EQ(m["out_of_order"], false) << m.dump();
  }
  EXPECT_EQ(versions, (std::vector<std::string>{"20250601000000", "202512311200000000",
                                                "20260102000000", "202601030000000001"}));
  EXPECT_EQ(json["migrations"][3]["status"], "pending");
  EXPECT_FALSE(Contains(Run({"status"}).out, "out of order"));

  auto created = Run({"new", "add things", "--format", "json"});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  json = StatusJson();
  ASSERT_EQ(json["migrations"].size(), 5u) << json.dump();
  std::string newest = json["migrations"][4]["version"];
  EXPECT_EQ(newest.size(), 18u) << newest;
  EXPECT_EQ(json["migrations"][4]["name"], "add_things");
  EXPECT_EQ(json["migrations"][4]["out_of_order"], false);
  auto up = Run({"up"});
  EXPECT_EQ(up.exit_code, 0) << up.err;
  EXPECT_FALSE(Contains(up.err, "out of order")) << up.err;
}

// pg_dump's seed data: COPY ... FROM stdin with its rows inline, ended by `\.`, through libpq's
// COPY protocol, in `up` (among migrations sent together), in a transaction-off migration, and
// in `release`; a bad row fails the migration and rolls it back.
TEST_F(HistoriesTest, CopyFromStdinWithInlineRows) {
  dir_.Write("db/migrations/1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  dir_.Write("db/migrations/2_seed.sql",
             "-- migrate:up\n"
             "CREATE TABLE s (id int, name text, note text);\n"
             "COPY public.s (id, name, note) FROM stdin;\n"
             "1\tone\t\\N\n"
             "2\ttwo; not SQL\t-- nor a comment\n"
             "\\.\n"
             "INSERT INTO s VALUES (3, 'three', 'x');\n"
             "COPY s FROM STDIN WITH (FORMAT csv);\n"
             "4,four,\"a, b\"\n"
             "\\.\n");
  dir_.Write("db/migrations/3_c.sql", "-- migrate:up\nCREATE TABLE c (id int);\n");
  dir_.Write("db/migrations/4_off.sql",
             "-- tandem:transaction off\n-- migrate:up\nCREATE TABLE o (id int);\n"
             "COPY o FROM stdin;\n5\n6\n\\.\n");
  auto up = Run({"up"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_EQ(QueryValue("SELECT string_agg(id || ':' || name || ':' || coalesce(note, 'NULL'), "
                       "',' ORDER BY id) FROM s"),
            "1:one:NULL,2:two; not SQL:-- nor a comment,3:three:x,4:four:a, b");
  EXPECT_EQ(QueryValue("SELECT string_agg(id::text, ',' ORDER BY id) FROM o"), "5,6");
  EXPECT_EQ(Statuses(), "1:succeeded,2:succeeded,3:succeeded,4:succeeded");

  dir_.Write("db/migrations/5_bad.sql",
             "-- migrate:up\nCREATE TABLE bad (id int);\nCOPY bad FROM stdin;\n7\nx\n\\.\n");
  auto r = Run({"up"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(Contains(r.err, "invalid input syntax for type integer")) << r.err;
  EXPECT_EQ(QueryValue("SELECT to_regclass('bad') IS NULL"), "t");
  EXPECT_EQ(QueryValue("SELECT status FROM tandem.migrations WHERE version = '5'"), "failed");

  dir_.Write("db/migrations/5_bad.sql",
             "-- migrate:up\nCREATE TABLE bad (id int);\nCOPY bad FROM stdin;\n7\n8\n\\.\n");
  dir_.Write("db/migrations/6_more.sql", "-- migrate:up\nCOPY a FROM stdin;\n9\n\\.\n");
  r = Run({"release"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(QueryValue("SELECT sum(id) FROM bad"), "15");
  EXPECT_EQ(QueryValue("SELECT sum(id) FROM a"), "9");
}

// psql meta-commands are not SQL: exit 2 naming the file, line and command, and nothing is
// changed, not even tandem's schema created. A `\.` without its COPY, and COPY rows without
// their `\.`, are refused the same way.
TEST_F(HistoriesTest, PsqlMetaCommandsAreRefusedBeforeAnythingChanges) {
  dir_.Write("db/migrations/1_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n");
  dir_.Write("db/migrations/2_b.sql",
             "-- migrate:up\nCREATE TABLE b (id int);\n\\set ON_ERROR_STOP on\n"
             "SELECT 'not \\i here';\n");
  for (const char* command : {"up", "release"}) {
    SCOPED_TRACE(command);
    auto r = Run({command});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_TRUE(Contains(r.err,
                         "db/migrations/2_b.sql:3:1: error: psql meta-command \"\\set\" "
                         "is not SQL: tandem runs SQL only"))
        << r.err;
    EXPECT_EQ(QueryValue("SELECT to_regnamespace('tandem') IS NULL AND to_regclass('a') IS NULL"),
              "t");
  }
  dir_.Write("db/migrations/2_b.sql", "-- migrate:up\nCREATE TABLE b (id int);\n  \\i other.sql\n");
  auto r = Run({"up"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "2_b.sql:3:3: error: psql meta-command \"\\i\"")) << r.err;
  dir_.Write("db/migrations/2_b.sql",
             "-- migrate:up\nCREATE TABLE b (id int);\nCOPY b FROM stdin;\n1\n2\n");
  r = Run({"up"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(Contains(r.err, "2_b.sql:3:1: error: COPY ... FROM STDIN without a \\. line"))
      << r.err;
  EXPECT_EQ(QueryValue("SELECT to_regnamespace('tandem') IS NULL"), "t");
}

// The hint after "has no down section" is in the layout's own terms.
TEST_F(HistoriesTest, MissingDownSectionHintFitsTheLayout) {
  struct Case {
    std::string layout;
    std::string file, text;
    std::string advice, to_add;  // the hint: advice, then the file to add or edit
  };
  const Case cases[] = {
      {"tandem", "1_a.sql", "-- migrate:up\nSELECT 1;\n",
       "add a \"-- migrate:down\" section at the end of ", "1_a.sql"},
      {"golang-migrate", "1_a.up.sql", "SELECT 1;\n", "add the down file ", "1_a.down.sql"},
      {"diesel", "2024-01-01-000000_a/up.sql", "SELECT 1;\n", "add ",
       "2024-01-01-000000_a/down.sql"},
      {"goose", "1_a.sql", "-- +goose Up\nSELECT 1;\n",
       "add a \"-- +goose Down\" section at the end of ", "1_a.sql"},
      {"flyway", "V1__a.sql", "SELECT 1;\n", "add the undo file ", "U1__a.sql"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.layout);
    TempDir dir;
    dir.Write("db/migrations/" + c.file, c.text);
    auto up = RunTandem({"up"}, dir.path().string(), Env());
    ASSERT_EQ(up.exit_code, 0) << up.err;
    auto down = RunTandem({"down"}, dir.path().string(), Env());
    EXPECT_EQ(down.exit_code, 2);
    EXPECT_TRUE(Contains(down.err, "has no down section")) << down.err;
    EXPECT_TRUE(Contains(down.err, "HINT: " + c.advice + dir.path().string() + "/db/migrations/" +
                                       c.to_add + ", or revert with a new forward migration"))
        << down.err;
    EXPECT_FALSE(c.layout != "tandem" && Contains(down.err, "migrate:down")) << down.err;
    ASSERT_TRUE(Connect()->Exec("DROP SCHEMA tandem CASCADE").ok());
  }
}

// Status columns line up whatever the versions' widths and the names' lengths.
TEST_F(HistoriesTest, StatusColumnsStayAligned) {
  dir_.Write("db/migrations/1_a.sql", "-- migrate:up\nSELECT 1;\n");
  dir_.Write("db/migrations/202512311200000000_a_rather_long_name_for_a_migration_indeed_yes.sql",
             "-- migrate:up\nSELECT 1;\n");
  dir_.Write("db/migrations/20260101000000000001_c.sql", "-- migrate:up\nSELECT 1;\n");
  ASSERT_EQ(Run({"up", "--to", "1"}).exit_code, 0);
  auto r = Run({"status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::vector<std::string> table;
  while (std::getline(lines, line) && !line.empty()) table.push_back(line);
  ASSERT_EQ(table.size(), 4u) << r.out;
  size_t name_at = table[0].find("NAME"), phase_at = table[0].find("PHASE"),
         status_at = table[0].find("STATUS");
  for (size_t i = 1; i < table.size(); ++i) {
    SCOPED_TRACE(table[i]);
    EXPECT_EQ(table[i][name_at - 1], ' ');
    EXPECT_NE(table[i][name_at], ' ');
    EXPECT_EQ(table[i].compare(phase_at, 10, "pre-deploy"), 0);
    EXPECT_TRUE(table[i].compare(status_at, 7, "applied") == 0 ||
                table[i].compare(status_at, 7, "pending") == 0);
  }
}

}  // namespace
}  // namespace tandem::testing
