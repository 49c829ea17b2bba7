// `tandem up` and `tandem down` of an online migration (development), through the real binary
// against the real server: up runs the expand `tandem release` runs and the backfill in the
// foreground, so both names work without a worker; up again does nothing; down undoes the
// expand (tandem abort); kill -9 of up at every expand step boundary and inside the backfill,
// then up again, ends expanded and backfilled.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "testing/harness.h"
#include "testing/project_test.h"

namespace tandem::testing {
namespace {

constexpr int kRows = 3000;

constexpr char kRenameColumn[] =
    "-- tandem:online\n-- migrate:up\nALTER TABLE users RENAME COLUMN name TO full_name;\n";

class OnlineUpTest : public ProjectTest {
 protected:
  void SetUp() override {
    ProjectTest::SetUp();
    dir_.Write("tandem.toml", "[release]\nlock_timeout = \"200ms\"\nretry_budget = \"30s\"\n");
    dir_.Write("db/migrations/1_users.sql",
               "-- migrate:up\nCREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY "
               "PRIMARY KEY, name text NOT NULL DEFAULT 'x', n int);\n"
               "CREATE INDEX users_name_idx ON users (name);\n"
               "INSERT INTO users (name, n) SELECT 'u' || g, g FROM generate_series(1, " +
                   std::to_string(kRows) + ") g;\n-- migrate:down\nDROP TABLE users;\n");
    auto r = Tandem({"up"});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  std::string Columns() {
    return QueryValue(
        "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = "
        "'users'::regclass AND attnum > 0 AND NOT attisdropped");
  }
  std::string State(const std::string& version) {
    return QueryValue(
        "SELECT coalesce((SELECT state FROM tandem.online_migrations WHERE version = '" + version +
        "'), 'none')");
  }
  // The table's shape and rows, to compare before and after a down.
  std::string Snapshot() {
    return Columns() + "|" +
           QueryValue(
               "SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint "
               "WHERE conrelid = 'users'::regclass") +
           "|" +
           QueryValue(
               "SELECT string_agg(indexrelid::regclass::text, ',' ORDER BY 1) FROM pg_index "
               "WHERE indrelid = 'users'::regclass") +
           "|" +
           QueryValue(
               "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass AND NOT "
               "tgisinternal") +
           "|" + QueryValue("SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM users t");
  }
  // Expanded and backfilled: both names, every row filled, both apps' writes seen by the other.
  void ExpectExpandedAndBackfilled() {
    EXPECT_EQ(State("2"), "expanded");
    EXPECT_EQ(Columns(), "id,name,n,full_name");
    EXPECT_EQ(QueryValue("SELECT status FROM tandem.jobs WHERE kind = 'background' AND "
                         "version = '2'"),
              "succeeded");
    EXPECT_EQ(QueryValue("SELECT count(*) FROM users WHERE full_name = name"),
              std::to_string(kRows));
    auto c = Connect();
    // The old app's write shows under the new name, and the new app's under the old one.
    ASSERT_TRUE(c->Exec("UPDATE users SET name = 'old-app' WHERE id = 1").ok());
    EXPECT_EQ(QueryValue("SELECT full_name FROM users WHERE id = 1"), "old-app");
    ASSERT_TRUE(c->Exec("UPDATE users SET full_name = 'new-app' WHERE id = 2").ok());
    EXPECT_EQ(QueryValue("SELECT name FROM users WHERE id = 2"), "new-app");
    auto inserted = c->Query("INSERT INTO users (full_name, n) VALUES ('n1', 0) RETURNING name");
    ASSERT_TRUE(inserted.ok()) << inserted.status().ToString();
    EXPECT_EQ(inserted->Get(0, 0), "n1");
    auto old_insert = c->Query("INSERT INTO users (name, n) VALUES ('o1', 0) RETURNING full_name");
    ASSERT_TRUE(old_insert.ok()) << old_insert.status().ToString();
    EXPECT_EQ(old_insert->Get(0, 0), "o1");
    ASSERT_TRUE(c->Exec("DELETE FROM users WHERE n = 0").ok());
    ASSERT_TRUE(c->Exec("UPDATE users SET name = 'u' || n WHERE id IN (1, 2)").ok());
  }
};

TEST_F(OnlineUpTest, UpExpandsAndBackfillsSoBothNamesWork) {
  dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
  auto up = Tandem({"up"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_NE(up.out.find("applied 2 rename"), std::string::npos) << up.out;
  EXPECT_NE(up.out.find("tandem complete 2 --now"), std::string::npos) << up.out;
  // The recorded expand steps of release, not the raw RENAME.
  EXPECT_NE(QueryValue("SELECT count(*) FROM tandem.online_steps WHERE version = '2' AND "
                       "stage = 'expand'"),
            "0");
  ExpectExpandedAndBackfilled();
  auto status = Tandem({"status"});
  EXPECT_NE(status.out.find("online: ready to complete"), std::string::npos) << status.out;

  // up again: nothing to do, nothing changed.
  std::string before = Snapshot();
  auto again = Tandem({"up"});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("nothing to do"), std::string::npos) << again.out;
  EXPECT_EQ(Snapshot(), before);

  // complete finishes it: only the new name is left, every row kept.
  auto complete = Tandem({"complete", "2", "--now"});
  ASSERT_EQ(complete.exit_code, 0) << complete.out << complete.err;
  EXPECT_EQ(Columns(), "id,n,full_name");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM users WHERE full_name = 'u' || n"),
            std::to_string(kRows));
}

TEST_F(OnlineUpTest, DownUndoesTheExpandAndUpRunsItAgain) {
  std::string before = Snapshot();
  dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
  ASSERT_EQ(Tandem({"up"}).exit_code, 0);
  ASSERT_EQ(Columns(), "id,name,n,full_name");

  auto dry = Tandem({"down", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_NE(dry.out.find("would-revert 2 rename"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("undo of online expand step"), std::string::npos) << dry.out;
  EXPECT_EQ(Columns(), "id,name,n,full_name");

  auto down = Tandem({"down"});
  ASSERT_EQ(down.exit_code, 0) << down.out << down.err;
  EXPECT_NE(down.out.find("reverted 2 rename"), std::string::npos) << down.out;
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(State("2"), "none");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.migrations WHERE version = '2'"), "0");
  auto status = Tandem({"status"});
  EXPECT_NE(status.out.find("pending"), std::string::npos) << status.out;

  // A developer's loop: up again after down expands and backfills anew.
  auto up = Tandem({"up"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  ExpectExpandedAndBackfilled();
}

TEST_F(OnlineUpTest, DownOfACompletedMigrationNeedsADownSection) {
  dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
  ASSERT_EQ(Tandem({"up"}).exit_code, 0);
  ASSERT_EQ(Tandem({"complete", "2", "--now"}).exit_code, 0);
  auto down = Tandem({"down"});
  EXPECT_EQ(down.exit_code, 2) << down.out << down.err;
  EXPECT_NE(down.err.find("online migration 2 is completed and has no down section"),
            std::string::npos)
      << down.err;
  EXPECT_EQ(Columns(), "id,n,full_name");

  // With a down section, it runs, and up afterwards expands anew.
  dir_.Write("db/migrations/2_rename.sql",
             std::string(kRenameColumn) +
                 "-- migrate:down\nALTER TABLE users RENAME COLUMN full_name TO name;\n");
  auto with_down = Tandem({"down"});
  ASSERT_EQ(with_down.exit_code, 0) << with_down.out << with_down.err;
  EXPECT_EQ(Columns(), "id,n,name");
  EXPECT_EQ(State("2"), "none");
  auto up = Tandem({"up"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_EQ(State("2"), "expanded");
  EXPECT_EQ(Columns(), "id,n,name,full_name");
}

TEST_F(OnlineUpTest, DryRunPrintsTheExpandAndChangesNothing) {
  dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
  auto dry = Tandem({"up", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.out << dry.err;
  EXPECT_NE(dry.out.find("would-apply 2 rename"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("online expand step 1"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("online backfill"), std::string::npos) << dry.out;
  EXPECT_EQ(dry.out.find("RENAME COLUMN name TO full_name"), std::string::npos) << dry.out;
  EXPECT_EQ(Columns(), "id,name,n");
  EXPECT_EQ(State("2"), "none");
}

// kill -9 of `tandem up` right after each expand step is recorded, then up again: expanded
// and backfilled, as without the kills.
TEST_F(OnlineUpTest, Kill9AtEveryExpandStepThenUpAgainFinishes) {
  dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
  auto plan = nlohmann::json::parse(Tandem({"--format", "json", "plan", "2"}).out);
  int steps = static_cast<int>(plan["expand"].size());
  ASSERT_GE(steps, 1);
  for (int i = 1; i <= steps; ++i) {
    auto killed = Tandem({"up"}, {"TANDEM_TEST_KILL_AFTER=expand:" + std::to_string(i)});
    EXPECT_EQ(killed.exit_code, 128 + 9) << killed.out << killed.err;
    EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.online_steps WHERE version = '2' AND "
                         "stage = 'expand'"),
              std::to_string(i));
  }
  auto status = Tandem({"status"});
  EXPECT_NE(status.out.find("expanding"), std::string::npos) << status.out;
  auto up = Tandem({"up"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  ExpectExpandedAndBackfilled();
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.jobs WHERE version = '2'"), "1");
}

// kill -9 of `tandem up` inside the backfill (after some batches committed), then up again:
// the backfill goes on from its committed cursor and ends with every row filled.
TEST_F(OnlineUpTest, Kill9InsideTheBackfillThenUpAgainFinishes) {
  // Small batches of a bigger table, so that the backfill runs long enough to be killed.
  dir_.Write("tandem.toml",
             "[release]\nlock_timeout = \"200ms\"\nretry_budget = \"30s\"\n"
             "[background]\nmin_batch_size = 1\nmax_batch_size = 1\n"
             "target_batch_duration = \"1ms\"\n");
  ASSERT_TRUE(Connect()
                  ->Exec("INSERT INTO users (name, n) SELECT 'u' || g, g FROM "
                         "generate_series(" +
                         std::to_string(kRows + 1) + ", 100000) g")
                  .ok());
  dir_.Write("db/migrations/2_rename.sql", kRenameColumn);
  pid_t pid = Start({"up"}, "up.log");
  ASSERT_TRUE(
      WaitFor("SELECT EXISTS (SELECT 1 FROM tandem.jobs WHERE version = '2' AND status = 'running' "
              "AND coalesce((progress->>'batches')::bigint, 0) >= 2)"))
      << dir_.Read("up.log");
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  ASSERT_TRUE(WIFSIGNALED(wstatus));
  EXPECT_EQ(QueryValue("SELECT status FROM tandem.jobs WHERE version = '2'"), "running");
  EXPECT_NE(QueryValue("SELECT count(*) FROM users WHERE full_name IS NULL"), "0");
  auto up = Tandem({"up"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  EXPECT_NE(up.out.find("tandem complete 2 --now"), std::string::npos) << up.out;
  EXPECT_EQ(QueryValue("SELECT status FROM tandem.jobs WHERE version = '2'"), "succeeded");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM users WHERE full_name IS DISTINCT FROM name"), "0");
  EXPECT_EQ(State("2"), "expanded");
}

}  // namespace
}  // namespace tandem::testing
