// Every database command other than release and status over a fleet (--target), through the
// real binary: 6 databases of the test cluster plus "dead", a target that refuses
// connections (fleet_fixture.h). Each database gets what the single-database command gives
// it, a failure on one never touches the others, failures come first in the table, and a
// rerun leaves the databases already done alone.
#include <map>
#include <set>

#include "fleet/fleet_fixture.h"

namespace tandem::testing {
namespace {

constexpr int kShards = 6;

class FleetCommandsTest : public FleetFixture {
 protected:
  static void SetUpTestSuite() { CreateShards("fleet_cmd_shard_", kShards); }
  static void TearDownTestSuite() { DropShards(); }
};

TEST_F(FleetCommandsTest, UpAppliesOnEveryDatabaseNamesTheFailuresAndARerunWritesNothing) {
  WriteConfig("concurrency = 3\nmax_failures = 10\n", {}, true);
  WriteMigrations();
  // shard-04 already has the table: its first migration fails there, and only there.
  ASSERT_TRUE(Open(Database(4))->Exec("CREATE TABLE " + table_ + " (x int)").ok());
  auto r = Tandem({"up", "--target", "all"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("up on 7 databases: 5 ok, 1 failed, 1 unreachable"), std::string::npos)
      << r.out;
  size_t failed = r.out.find("failed      shard-04");
  size_t dead = r.out.find("unreachable dead");
  size_t first_ok = r.out.find("ok          shard-00");
  ASSERT_NE(failed, std::string::npos) << r.out;
  ASSERT_NE(dead, std::string::npos) << r.out;
  ASSERT_NE(first_ok, std::string::npos) << r.out;
  EXPECT_LT(failed, first_ok);
  EXPECT_LT(dead, first_ok);
  EXPECT_NE(r.out.find("already exists", failed), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("could not connect to database at 127.0.0.1:1", dead), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("shard-00  2 applied"), std::string::npos) << r.out;
  for (int i = 0; i < kShards; ++i) {
    if (i != 4) EXPECT_EQ(Applied(i), "2") << ShardName(i);
  }
  EXPECT_EQ(Applied(4), "0");
  EXPECT_EQ(CountIn(4, "migrations", "status = 'failed'"), "1");

  // The problem fixed: the rerun applies shard-04 and writes nothing where it was done.
  ASSERT_TRUE(Open(Database(4))->Exec("DROP TABLE " + table_).ok());
  std::vector<std::string> events;
  for (int i = 0; i < kShards; ++i) events.push_back(Events(i));
  auto rerun = Tandem({"--format", "json", "up", "--target", "all"});
  EXPECT_EQ(rerun.exit_code, 1) << rerun.out << rerun.err;  // dead is still unreachable
  nlohmann::json report = Json(rerun);
  EXPECT_EQ(report["command"], "up");
  EXPECT_EQ(report["summary"]["ok"], 6);
  EXPECT_EQ(report["summary"]["unreachable"], 1);
  EXPECT_EQ(Entry(report, "dead")["error"]["sqlstate"], "08001");
  // Each entry is the single-database report.
  EXPECT_EQ(Entry(report, "shard-04")["migrations"].size(), 2u);
  EXPECT_EQ(Entry(report, "shard-04")["migrations"][0]["action"], "applied");
  EXPECT_EQ(Entry(report, "shard-01")["migrations"].size(), 0u);
  EXPECT_EQ(Entry(report, "shard-01")["ok"], true);
  EXPECT_EQ(Applied(4), "2");
  for (int i = 0; i < kShards; ++i) {
    if (i != 4) EXPECT_EQ(Events(i), events[i]) << ShardName(i);
  }
}

TEST_F(FleetCommandsTest, UpStopsStartingAfterMaxFailures) {
  WriteConfig("concurrency = 1\n", {}, false);
  WriteMigrations();
  ASSERT_TRUE(Open(Database(1))->Exec("CREATE TABLE " + table_ + " (x int)").ok());
  auto r = Tandem({"--format", "json", "up", "--target", "all", "--max-failures", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  nlohmann::json report = Json(r);
  EXPECT_EQ(report["stopped"], true);
  EXPECT_EQ(Entry(report, "shard-00")["outcome"], "ok");
  EXPECT_EQ(Entry(report, "shard-01")["outcome"], "failed");
  for (int i = 2; i < kShards; ++i) {
    EXPECT_EQ(Entry(report, ShardName(i))["outcome"], "not-started") << i;
    EXPECT_EQ(Applied(i), "-1") << ShardName(i);
  }
  ASSERT_TRUE(Open(Database(1))->Exec("DROP TABLE " + table_).ok());
}

TEST_F(FleetCommandsTest, DownRevertsOnTheChosenDatabasesOnly) {
  WriteConfig("concurrency = 4\n", {}, true);
  WriteMigrations();
  auto up = Tandem({"up", "--target", "group:first-half"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  auto all_up = Tandem({"up", "--target", "all", "--max-failures", "5"});
  EXPECT_EQ(all_up.exit_code, 1) << all_up.out << all_up.err;  // dead
  auto down = Tandem({"down", "--target", "group:few"});
  EXPECT_EQ(down.exit_code, 1) << down.out << down.err;
  EXPECT_NE(down.out.find("down on 4 databases: 3 ok, 1 unreachable"), std::string::npos)
      << down.out;
  EXPECT_NE(down.out.find("shard-02  1 reverted"), std::string::npos) << down.out;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Applied(i), "1") << ShardName(i);
  for (int i = 3; i < kShards; ++i) EXPECT_EQ(Applied(i), "2") << ShardName(i);
  EXPECT_EQ(Value(2, "SELECT count(*) FROM information_schema.columns WHERE table_name = '" +
                         table_ + "' AND column_name = 'name'"),
            "0");
}

TEST_F(FleetCommandsTest, AdoptRecordsEachDatabasesOwnHistory) {
  WriteConfig("concurrency = 4\nmax_failures = 10\n", {}, true);
  WriteMigrations();
  // dbmate's history on each shard; shard-02 has only the first migration, shard-05 none at
  // all (adopt refuses there: the table does not exist).
  for (int i = 0; i < kShards; ++i) {
    auto c = Open(Database(i));
    ASSERT_TRUE(c->Exec("DROP TABLE IF EXISTS schema_migrations").ok());
    if (i == 5) continue;
    ASSERT_TRUE(c->Exec("CREATE TABLE schema_migrations (version varchar PRIMARY KEY)").ok());
    ASSERT_TRUE(c->Exec(i == 2 ? "INSERT INTO schema_migrations VALUES ('1')"
                               : "INSERT INTO schema_migrations VALUES ('1'), ('2')")
                    .ok());
  }
  auto r = Tandem({"adopt", "--from", "dbmate", "--target", "all"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("adopt on 7 databases: 5 ok, 1 failed, 1 unreachable"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("shard-02  adopted 1 migrations from dbmate"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("shard-03  adopted 2 migrations from dbmate"), std::string::npos) << r.out;
  EXPECT_LT(r.out.find("failed      shard-05"), r.out.find("ok          shard-00")) << r.out;
  EXPECT_EQ(Applied(0), "2");
  EXPECT_EQ(Applied(2), "1");
  EXPECT_EQ(Applied(5), "-1");
  // Again: nothing new anywhere, said per database.
  auto again = Tandem({"--format", "json", "adopt", "--from", "dbmate", "--target", "group:few"});
  nlohmann::json report = Json(again);
  EXPECT_EQ(Entry(report, "shard-00")["adopted"].size(), 0u);
  EXPECT_EQ(Entry(report, "shard-00")["already_recorded"].size(), 2u);
  for (int i = 0; i < kShards; ++i) {
    ASSERT_TRUE(Open(Database(i))->Exec("DROP TABLE IF EXISTS schema_migrations").ok());
  }
}

TEST_F(FleetCommandsTest, VerifyRunsEachDatabasesPendingMigrationsOnAShadowOfItsOwn) {
  WriteConfig("concurrency = 2\n", {}, true);
  WriteMigrations();
  // shard-00 is up to date, shard-01 has the first migration, shard-02 none.
  ASSERT_EQ(Tandem({"up", "--target", "shard-00"}).exit_code, 0);
  ASSERT_EQ(Tandem({"up", "--target", "shard-01"}).exit_code, 0);
  ASSERT_EQ(Tandem({"down", "--target", "shard-01"}).exit_code, 0);
  auto r = Tandem({"--format", "json", "verify", "--target", "group:few"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // dead
  nlohmann::json report = Json(r);
  EXPECT_EQ(report["command"], "verify");
  EXPECT_EQ(report["summary"]["ok"], 3) << report.dump(2);
  EXPECT_EQ(report["summary"]["unreachable"], 1);
  EXPECT_EQ(Entry(report, "shard-00")["migrations"].size(), 0u);
  ASSERT_EQ(Entry(report, "shard-01")["migrations"].size(), 1u);
  EXPECT_EQ(Entry(report, "shard-01")["migrations"][0]["version"], "2");
  EXPECT_EQ(Entry(report, "shard-02")["migrations"].size(), 2u);
  // One shadow for all of them would mix their schemas: refused.
  auto shadow = Tandem({"verify", "--target", "group:few", "--shadow-url", Url(5)});
  EXPECT_EQ(shadow.exit_code, 2) << shadow.out << shadow.err;
  EXPECT_NE(shadow.err.find("--shadow-url does not take --target"), std::string::npos)
      << shadow.err;
}

TEST_F(FleetCommandsTest, LintReadsEachDatabasesLiveCatalog) {
  WriteConfig("concurrency = 4\n", {}, true);
  WriteMigrations();
  // The table exists with a row only on shard-01; the third migration rewrites it with a
  // type change (an error there, where the table is live; the others create it empty first).
  ASSERT_EQ(Tandem({"up", "--target", "shard-01"}).exit_code, 0);
  dir_.Write("db/migrations/3_type.sql",
             "-- migrate:up\nALTER TABLE " + table_ + " ALTER COLUMN name TYPE varchar(10);\n");
  auto r = Tandem({"--format", "json", "lint", "--target", "group:few"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  nlohmann::json report = Json(r);
  EXPECT_EQ(report["command"], "lint");
  EXPECT_EQ(report["summary"]["unreachable"], 1) << report.dump(2);
  EXPECT_EQ(Entry(report, "dead")["outcome"], "unreachable");
  for (const char* shard : {"shard-00", "shard-01", "shard-02"}) {
    const nlohmann::json& e = Entry(report, shard);
    EXPECT_TRUE(e.contains("findings")) << e.dump(2);
    EXPECT_EQ(e["pg_version_source"], "server") << e.dump(2);
  }
  auto text = Tandem({"lint", "--target", "group:few"});
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("lint on 4 databases"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("(PostgreSQL "), std::string::npos) << text.out;
  // Formats for one report per run are refused with --target.
  auto sarif = Tandem({"lint", "--format", "sarif", "--target", "group:few"});
  EXPECT_EQ(sarif.exit_code, 2) << sarif.out << sarif.err;
}

TEST_F(FleetCommandsTest, JobsListOneTableWithATargetColumnAndIdsArePerDatabase) {
  WriteConfig("concurrency = 4\n", {}, true);
  dir_.Write("db/migrations/1_create.sql",
             "-- migrate:up\nCREATE TABLE " + table_ + " (id bigint PRIMARY KEY);\n");
  dir_.Write("db/migrations/2_index.sql",
             "-- tandem:phase post-deploy\n-- migrate:up\nCREATE INDEX " + table_ + "_idx ON " +
                 table_ + " (id);\n");
  auto release = Tandem({"release", "--target", "group:first-half"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  auto r = Tandem({"jobs", "list", "--target", "group:few"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // dead
  EXPECT_NE(r.out.find("jobs list on 4 databases: 3 ok, 1 unreachable"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("shard-01  1 jobs: 1 queued"), std::string::npos) << r.out;
  size_t header = r.out.find("TARGET       ID  KIND");
  ASSERT_NE(header, std::string::npos) << r.out;
  for (const char* shard : {"shard-00", "shard-01", "shard-02"}) {
    EXPECT_NE(r.out.find(std::string(shard) + "      1  post-deploy", header), std::string::npos)
        << shard << "\n"
        << r.out;
  }
  auto json = Tandem({"--format", "json", "jobs", "list", "--target", "all"});
  nlohmann::json matrix = Json(json);
  EXPECT_EQ(Entry(matrix, "shard-02")["jobs"].size(), 1u);
  EXPECT_EQ(Entry(matrix, "shard-02")["jobs"][0]["version"], "2");
  EXPECT_EQ(Entry(matrix, "shard-04")["jobs"].size(), 0u);

  // A job id is per database: a selection of several is refused, one database works.
  auto show_many = Tandem({"jobs", "show", "1", "--target", "group:few"});
  EXPECT_EQ(show_many.exit_code, 2) << show_many.out << show_many.err;
  EXPECT_NE(show_many.err.find("job 1 belongs to one database: --target \"group:few\" names 4 "
                               "databases"),
            std::string::npos)
      << show_many.err;
  auto show = Tandem({"jobs", "show", "1", "--target", "shard-01"});
  EXPECT_EQ(show.exit_code, 0) << show.out << show.err;
  EXPECT_NE(show.out.find("job 1: post-deploy 2 index"), std::string::npos) << show.out;
  auto cancel_many = Tandem({"jobs", "cancel", "1", "--target", "all"});
  EXPECT_EQ(cancel_many.exit_code, 2) << cancel_many.out << cancel_many.err;
  EXPECT_EQ(Value(0, "SELECT status FROM " + schema_ + ".jobs"), "queued");
  auto cancel = Tandem({"jobs", "cancel", "1", "--target", "shard-00"});
  EXPECT_EQ(cancel.exit_code, 0) << cancel.out << cancel.err;
  EXPECT_EQ(Value(0, "SELECT status FROM " + schema_ + ".jobs"), "cancelled");
  EXPECT_EQ(Value(1, "SELECT status FROM " + schema_ + ".jobs"), "queued");
  // --all acts on each chosen database.
  auto pause = Tandem({"jobs", "pause", "--all", "--target", "group:first-half"});
  EXPECT_EQ(pause.exit_code, 0) << pause.out << pause.err;
  EXPECT_NE(pause.out.find("shard-01  pause: job 1"), std::string::npos) << pause.out;
  EXPECT_EQ(Value(1, "SELECT status FROM " + schema_ + ".jobs"), "paused");
  EXPECT_EQ(Value(2, "SELECT status FROM " + schema_ + ".jobs"), "paused");
}

// The fleet's status reads each database in one query; what it counts must be what the
// single-database status shows for that database, in every state a database can be in: never
// touched, up to date with a queued job, with a cancelled job, drifted, a runner that died
// mid-migration, and an applied migration whose file is gone.
TEST_F(FleetCommandsTest, StatusCountsWhatEachDatabaseShowsAlone) {
  WriteConfig("concurrency = 3\n");
  WriteMigrations();
  dir_.Write("db/migrations/3_index.sql",
             "-- tandem:phase post-deploy\n-- migrate:up\nCREATE INDEX " + table_ + "_idx ON " +
                 table_ + " (id);\n");
  for (int i = 1; i < kShards; ++i) {
    auto release = Tandem({"release", "--target", ShardName(i)});
    ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  }
  auto cancel = Tandem({"jobs", "cancel", "1", "--target", "shard-02"});
  ASSERT_EQ(cancel.exit_code, 0) << cancel.out << cancel.err;
  std::string m = schema_ + ".migrations";
  ASSERT_EQ(Value(3, "UPDATE " + m + " SET checksum = 'edited' WHERE version = '1' RETURNING 1"),
            "1");
  ASSERT_EQ(Value(4, "UPDATE " + m + " SET status = 'running' WHERE version = '2' RETURNING 1"),
            "1");
  ASSERT_EQ(Value(5, "UPDATE " + m + " SET version = '9' WHERE version = '2' RETURNING 1"), "1");

  auto fleet = Tandem({"--format", "json", "status", "--target", "all"});
  ASSERT_EQ(fleet.exit_code, 0) << fleet.out << fleet.err;
  nlohmann::json matrix = Json(fleet);
  std::set<std::string> states_seen;
  for (int i = 0; i < kShards; ++i) {
    SCOPED_TRACE(ShardName(i));
    auto alone = Tandem({"--format", "json", "status", "--url", Url(i)});
    ASSERT_EQ(alone.exit_code, 0) << alone.out << alone.err;
    std::map<std::string, int> counts;
    std::string oldest_pending;
    bool work_left = false;
    nlohmann::json shown = Json(alone);
    for (const auto& e : shown["migrations"]) {
      std::string state = e["status"];
      ++counts[state];
      states_seen.insert(state);
      if (state == "pending" && oldest_pending.empty()) oldest_pending = e["version"];
      work_left |= state != "applied" && e.value("job_status", "") != "cancelled";
    }
    const nlohmann::json& entry = Entry(matrix, ShardName(i));
    EXPECT_EQ(entry["outcome"], "ok");
    EXPECT_EQ(entry["applied"], counts["applied"]);
    EXPECT_EQ(entry["pending"], counts["pending"]);
    EXPECT_EQ(entry["running"], counts["running"]);
    EXPECT_EQ(entry["failed"], counts["failed"]);
    EXPECT_EQ(entry["drifted"], counts["drifted"]);
    EXPECT_EQ(entry["missing_file"], counts["missing-file"]);
    EXPECT_EQ(entry["oldest_pending"],
              oldest_pending.empty() ? nlohmann::json(nullptr) : nlohmann::json(oldest_pending));
    auto exit_code = Tandem({"status", "--target", ShardName(i), "--exit-code"});
    EXPECT_EQ(exit_code.exit_code, work_left ? 1 : 0) << exit_code.out << exit_code.err;
  }
  // The states above were all reached (else the comparison proves less than it says).
  for (const char* state : {"applied", "pending", "failed", "drifted", "missing-file"}) {
    EXPECT_EQ(states_seen.count(state), 1u) << state;
  }
  // shard-02's only work left is its cancelled job: not work, as on one database.
  EXPECT_EQ(Tandem({"status", "--target", "shard-02", "--exit-code"}).exit_code, 0);
}

// A fleet release lints the pending migrations once, not once per database: the files are the
// same everywhere, and so is the answer, a refusal included.
TEST_F(FleetCommandsTest, ReleaseLintsThePendingMigrationsOncePerRun) {
  WriteConfig("concurrency = 3\nmax_failures = 10\n");
  WriteMigrations();
  auto ok = Tandem({"--format", "json", "release", "--target", "all"});
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  nlohmann::json report = Json(ok);
  EXPECT_EQ(report["summary"]["ok"], kShards);
  EXPECT_EQ(report["fleet"]["lint_gate_runs"], 1);

  // An error-level finding: every database refuses with the same error, from one lint.
  dir_.Write("db/migrations/3_drop.sql",
             "-- migrate:up\nALTER TABLE " + table_ + " DROP COLUMN name;\n");
  auto refused = Tandem({"--format", "json", "release", "--target", "all"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  report = Json(refused);
  EXPECT_EQ(report["fleet"]["lint_gate_runs"], 1);
  int refusals = 0;
  for (const auto& t : report["targets"]) {
    if (t["outcome"] != "failed") continue;
    ++refusals;
    EXPECT_NE(t["error"]["message"].get<std::string>().find("lint errors; nothing was applied"),
              std::string::npos)
        << t.dump(2);
  }
  EXPECT_EQ(refusals, kShards);
  for (int i = 0; i < kShards; ++i) {
    EXPECT_EQ(Value(i, "SELECT count(*) FROM information_schema.columns WHERE table_name = '" +
                           table_ + "' AND column_name = 'name'"),
              "1")
        << ShardName(i);
  }
}

}  // namespace
}  // namespace tandem::testing
