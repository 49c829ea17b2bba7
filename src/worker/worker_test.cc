// The worker against the real server, through the real binary: release then worker, ordering
// and blocking, bounded locks with a real blocker, replicas, kill -9 takeover, SIGTERM, and
// people steering jobs through `tandem jobs`.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "testing/harness.h"

namespace tandem::testing {
namespace {

using namespace std::chrono_literals;

class WorkerTest : public PgTest {
 protected:
  std::vector<std::string> Env() {
    return {"DATABASE_URL=", "TANDEM_DATABASE_URL=" + url(), "NO_COLOR=1",
            "TANDEM_ACTOR=", "SLACK_WEBHOOK_URL="};
  }

  ProcessOutput Tandem(const std::vector<std::string>& args,
                       const std::vector<std::string>& extra_env = {}) {
    std::vector<std::string> env = Env();
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    return RunTandem(args, dir_.path().string(), env);
  }

  // Starts tandem in the background; its output goes to `log` in the project directory.
  pid_t Start(const std::vector<std::string>& args, const std::string& log = "worker.log") {
    SpawnOptions options;
    options.argv = {TANDEM_BINARY_PATH};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.env = Env();
    options.working_directory = dir_.path().string();
    options.output_path = (dir_.path() / log).string();
    auto pid = Spawn(options);
    EXPECT_TRUE(pid.ok()) << pid.status().ToString();
    return pid.ok() ? *pid : -1;
  }

  bool WaitFor(const std::string& sql, std::chrono::milliseconds limit = 15s) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (QueryValue(sql) == "t") return true;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "never became true: " << sql;
    return false;
  }

  std::string Statuses() {
    return QueryValue(
        "SELECT string_agg(version || '=' || status, ' ' ORDER BY version) FROM "
        "tandem.jobs");
  }

  void Migration(const std::string& file, const std::string& body) {
    dir_.Write("db/migrations/" + file, body);
  }

  TempDir dir_;
};

TEST_F(WorkerTest, ReleaseQueuesWithTheSqlAndTheWorkerAppliesIt) {
  Migration("1_table.sql", "-- migrate:up\nCREATE TABLE t (id int, v int);\n");
  Migration("2_fill.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO t VALUES (1, 10);\n");
  Migration("3_index.sql",
            "-- tandem:phase post-deploy\n-- tandem:transaction off\n-- migrate:up\n"
            "CREATE INDEX CONCURRENTLY t_v ON t (v);\nINSERT INTO t VALUES (2, 20);\n");
  auto release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  EXPECT_EQ(Statuses(), "2=queued 3=queued");
  EXPECT_EQ(QueryValue("SELECT sql FROM tandem.jobs WHERE version = '2'"),
            "INSERT INTO t VALUES (1, 10);\n");
  // What runs is what was released: the file edited afterwards is drift, reported, not run.
  Migration("2_fill.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nINSERT INTO t VALUES (1, 99);\n");

  auto worker = Tandem({"worker", "--once"});
  EXPECT_EQ(worker.exit_code, 0) << worker.out << worker.err;
  EXPECT_EQ(Statuses(), "2=succeeded 3=succeeded");
  EXPECT_EQ(QueryValue("SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM t"), "1:10,2:20");
  EXPECT_EQ(QueryValue("SELECT string_agg(version || '=' || status, ' ' ORDER BY version) FROM "
                       "tandem.migrations"),
            "1=succeeded 2=succeeded 3=succeeded");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events WHERE event = 'drift'"), "1");
  EXPECT_NE(worker.err.find("edited since it was queued"), std::string::npos) << worker.err;
  EXPECT_EQ(QueryValue("SELECT string_agg(event, ',' ORDER BY id) FROM tandem.events WHERE "
                       "event LIKE 'job.%' AND version = '2'"),
            "job.queued,job.running,job.succeeded");

  auto list = Tandem({"jobs", "list", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto json = nlohmann::json::parse(list.out);
  ASSERT_EQ(json["jobs"].size(), 2u);
  EXPECT_EQ(json["jobs"][1]["status"], "succeeded");
  EXPECT_EQ(json["jobs"][1]["statements_done"], 2);
}

}  // namespace
}  // namespace tandem::testing
