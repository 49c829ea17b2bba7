// The dashboard in a real browser: two targets filled through the real binary (a release with
// post-deploy and background jobs, a worker that fails one job and leaves a backfill running
// and throttled, names and errors that carry HTML), `tandem dashboard` started on them with a
// token, then headless Chromium driven by tests/browser/dashboard.test.mjs (node and
// puppeteer-core). After its clicks, the databases say what the clicks did.
//
// It fails, never skips, when Chromium, node or the pinned puppeteer-core is missing
// (scripts/install-deps.sh installs all three).
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "testing/harness.h"
#include "testing/paths.h"
#include "testing/project_test.h"

namespace tandem::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kToken[] = "browser-test-token-5f0c2a";
constexpr char kXssName[] = "<img src=x onerror=alert(1)>";
constexpr char kXssError[] = "relation \"<b>archive</b>\" does not exist";

const fs::path kBrowserDir = fs::path(TANDEM_SOURCE_DIR) / "tests" / "browser";

// Chromium, node and puppeteer-core; `missing` says what is not there and how to get it.
struct BrowserTools {
  std::string chromium;
  std::string missing;
};

BrowserTools FindBrowserTools() {
  BrowserTools tools;
  const char* chromium = std::getenv("CHROMIUM");
  tools.chromium = chromium && *chromium ? chromium : "/usr/bin/chromium";
  if (access(tools.chromium.c_str(), X_OK) != 0) {
    tools.missing += "no Chromium at " + tools.chromium + " (Debian package chromium)\n";
  }
  auto node = RunAndCapture({"node", "--version"});
  if (!node.ok() || node->exit_code != 0) {
    tools.missing += "no node on PATH (Debian package nodejs)\n";
  }
  if (!fs::exists(kBrowserDir / "node_modules" / "puppeteer-core" / "package.json")) {
    tools.missing += "no puppeteer-core in " + (kBrowserDir / "node_modules").string() + "\n";
  }
  if (!tools.missing.empty()) tools.missing += "run scripts/install-deps.sh";
  return tools;
}

// A database of its own on the harness's server, for a second target; its URL, "" on failure.
std::string CreateDatabase(const std::string& name) {
  std::string error;
  pg::EmbeddedServer* server = SharedServer(&error);
  if (!server) return "";
  auto admin_url = pg::ParseDatabaseUrl(server->Url("postgres"));
  if (!admin_url.ok()) return "";
  auto admin = pg::Connection::Open(*admin_url);
  if (!admin.ok()) return "";
  Status created =
      (*admin)->Exec("CREATE DATABASE " + pg::QuoteIdentifier(name) + " TEMPLATE template0");
  EXPECT_TRUE(created.ok()) << created.ToString();
  return created.ok() ? server->Url(name) : "";
}

void DropDatabase(const std::string& name) {
  std::string error;
  pg::EmbeddedServer* server = SharedServer(&error);
  if (!server) return;
  auto admin_url = pg::ParseDatabaseUrl(server->Url("postgres"));
  if (!admin_url.ok()) return;
  auto admin = pg::Connection::Open(*admin_url);
  if (!admin.ok()) return;
  (*admin)->Exec("DROP DATABASE IF EXISTS " + pg::QuoteIdentifier(name) + " WITH (FORCE)");
}

// The first column of the first row of `sql` in the database at `url` ("" if none).
std::string QueryValueAt(const std::string& url, const std::string& sql) {
  auto parsed = pg::ParseDatabaseUrl(url);
  if (!parsed.ok()) return "";
  auto connection = pg::Connection::Open(*parsed);
  EXPECT_TRUE(connection.ok()) << connection.status().ToString();
  if (!connection.ok()) return "";
  auto result = (*connection)->Query(sql);
  EXPECT_TRUE(result.ok()) << sql << ": " << result.status().ToString();
  if (!result.ok() || result->rows() == 0 || result->columns() == 0) return "";
  return result->Get(0, 0);
}

struct DashboardProcess {
  pid_t pid = -1;
  std::string url;  // http://127.0.0.1:PORT, "" when it did not say within 10 s
  std::string log;
};

// `tandem dashboard --http 127.0.0.1:0` in `cwd`, its output in cwd/dashboard.log; waits for
// the line that gives the address it listens on.
DashboardProcess StartDashboard(const std::string& cwd, const std::vector<std::string>& env) {
  DashboardProcess dashboard;
  SpawnOptions options;
  options.argv = {TANDEM_BINARY_PATH, "dashboard", "--http", "127.0.0.1:0"};
  options.env = {"DATABASE_URL=", "TANDEM_DATABASE_URL=", "NO_COLOR=1", "TANDEM_ACTOR="};
  options.env.insert(options.env.end(), env.begin(), env.end());
  options.working_directory = cwd;
  options.output_path = (fs::path(cwd) / "dashboard.log").string();
  auto pid = Spawn(options);
  EXPECT_TRUE(pid.ok()) << pid.status().ToString();
  if (!pid.ok()) return dashboard;
  dashboard.pid = *pid;
  auto until = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < until) {
    auto log = ReadFile(options.output_path);
    dashboard.log = log.ok() ? *log : "";
    size_t at = dashboard.log.find("http://");
    if (at != std::string::npos) {
      size_t end = dashboard.log.find_first_of(" \t\r\n\"'<>)", at);
      if (end != std::string::npos) {
        dashboard.url = dashboard.log.substr(at, end - at);
        while (!dashboard.url.empty() && dashboard.url.back() == '/') dashboard.url.pop_back();
        return dashboard;
      }
    }
    if (PollExit(dashboard.pid)) {
      dashboard.pid = -1;
      return dashboard;
    }
    std::this_thread::sleep_for(20ms);
  }
  return dashboard;
}

// Runs tests/browser/`script` with node (TAP on stdout) and the browser's path.
ProcessOutput RunDriver(const BrowserTools& tools, const std::string& script,
                        std::vector<std::string> env) {
  env.push_back("CHROMIUM=" + tools.chromium);
  auto out = RunAndCapture({"node", "--test-reporter=tap", (kBrowserDir / script).string()}, env,
                           kBrowserDir.string());
  if (!out.ok()) {
    ADD_FAILURE() << "could not run node: " << out.status().ToString();
    return {};
  }
  return *out;
}

class DashboardBrowserTest : public ProjectTest {
 protected:
  void TearDown() override {
    for (pid_t pid : {dashboard_, worker_}) {
      if (pid > 0) {
        kill(pid, SIGTERM);
        WaitForExit(pid);
      }
    }
    if (!other_database_.empty()) DropDatabase(other_database_);
    ProjectTest::TearDown();
  }

  void Migration(const std::string& file, const std::string& body) {
    dir_.Write("db/migrations/" + file, body);
  }

  std::string Job(const std::string& version) {
    return QueryValue("SELECT id FROM tandem.jobs WHERE version = '" + version + "'");
  }

  pid_t dashboard_ = -1;
  pid_t worker_ = -1;
  std::string other_database_;
};

TEST_F(DashboardBrowserTest, OverviewLoginPauseLiveEscapingPhoneAndNoScript) {
  // Fail, never skip, without the browser and its driver.
  BrowserTools tools = FindBrowserTools();
  ASSERT_TRUE(tools.missing.empty()) << tools.missing;

  // One migration set, two targets: "app" where a post-deploy job fails and the backfill runs,
  // "billing" where everything succeeded.
  Migration("1_items.sql",
            "-- migrate:up\nCREATE TABLE items (id bigint PRIMARY KEY, v bigint);\n"
            "INSERT INTO items SELECT g, NULL FROM generate_series(1, 10000) g;\n");
  Migration("2_backfill_items.sql",
            "-- tandem:phase background\n-- tandem:batch table=items key=id size=500\n"
            "-- migrate:up\nUPDATE items SET v = id * 2\n"
            " WHERE id >= :batch_start AND id < :batch_end AND v IS NULL;\n");
  Migration("3_copy_archive.sql",
            "-- tandem:phase post-deploy\n-- migrate:up\nCREATE TABLE copies (id bigint);\n"
            "INSERT INTO \"<b>archive</b>\" SELECT id FROM items;\n");
  Migration(std::string("4_") + kXssName + ".sql",
            "-- tandem:phase post-deploy\n-- migrate:up\n"
            "-- escaping: </script><script>alert(2)</script>\nSELECT 1;\n");
  Migration("5_index_items.sql",
            "-- tandem:phase post-deploy\n-- tandem:transaction off\n-- migrate:up\n"
            "CREATE INDEX CONCURRENTLY items_v ON items (v);\n");
  other_database_ = database() + "_billing";
  std::string other_url = CreateDatabase(other_database_);
  ASSERT_FALSE(other_url.empty());
  // The backfill is paced by its throttle query (a batch of 500 rows per `pace` seconds since
  // the job started), then held for good at 4,000 rows; the screenshots pace it slower, so that
  // its charts (one point per 10 s) have points to draw.
  const char* screenshots = std::getenv("TANDEM_SCREENSHOTS_DIR");
  bool photographing = screenshots && *screenshots;
  std::string pace = photographing ? "3" : "0.2";
  dir_.Write("tandem.toml",
             "[[targets]]\nname = \"app\"\nurl_env = \"APP_URL\"\n\n"
             "[[targets]]\nname = \"billing\"\nurl_env = \"BILLING_URL\"\n\n"
             "[background]\nthrottle_query = \"\"\"SELECT count(*) >= 4000 OR count(*) >= 500 + "
             "500 * extract(epoch FROM clock_timestamp() - (SELECT started_at FROM tandem.jobs "
             "WHERE version = '2')) / " +
                 pace + " FROM items WHERE v IS NOT NULL\"\"\"\n");

  // billing: the archive exists there, so its whole release succeeds.
  QueryValueAt(other_url, "CREATE TABLE \"<b>archive</b>\" (id bigint)");
  auto release = Tandem({"release", "--database-url", other_url});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  auto finalize =
      Tandem({"jobs", "finalize", "--database-url", other_url,
              QueryValueAt(other_url, "SELECT id FROM tandem.jobs WHERE version = '2'")});
  ASSERT_EQ(finalize.exit_code, 0) << finalize.out << finalize.err;
  auto once = Tandem({"worker", "--once", "--database-url", other_url});
  ASSERT_EQ(once.exit_code, 0) << once.out << once.err;
  ASSERT_EQ(QueryValueAt(other_url,
                         "SELECT string_agg(version || '=' || status, ' ' ORDER BY version) "
                         "FROM tandem.jobs"),
            "2=succeeded 3=succeeded 4=succeeded 5=succeeded");

  // app: a worker fails job 3 (which holds 4 and 5 queued) and runs the backfill until the
  // throttle query holds it; it keeps running, throttled, while the browser looks.
  release = Tandem({"release"});
  ASSERT_EQ(release.exit_code, 0) << release.out << release.err;
  worker_ = Start({"worker"});
  ASSERT_TRUE(WaitFor("SELECT status = 'failed' FROM tandem.jobs WHERE version = '3'"));
  ASSERT_TRUE(
      WaitFor("SELECT status = 'running' AND jsonb_typeof(progress->'throttled') = "
              "'object' FROM tandem.jobs WHERE version = '2'"));
  ASSERT_EQ(QueryValue("SELECT string_agg(version || '=' || status, ' ' ORDER BY version) FROM "
                       "tandem.jobs"),
            "2=running 3=failed 4=queued 5=queued");

  // The dashboard, with the token, on both targets.
  DashboardProcess dashboard =
      StartDashboard(dir_.path().string(), {"APP_URL=" + url(), "BILLING_URL=" + other_url,
                                            std::string("TANDEM_DASHBOARD_TOKEN=") + kToken});
  dashboard_ = dashboard.pid;
  ASSERT_FALSE(dashboard.url.empty()) << dashboard.log;

  nlohmann::json fixture = {
      {"target", "app"},        {"other_target", "billing"},
      {"pause_job", Job("5")},  {"background_job", Job("2")},
      {"failed_job", Job("3")}, {"failed_version", "3"},
      {"xss_version", "4"},     {"xss_name", kXssName},
      {"xss_error", kXssError}, {"plain_version", "5"},
  };
  ProcessOutput driver = RunDriver(
      tools, "dashboard.test.mjs",
      {"TANDEM_DASHBOARD_URL=" + dashboard.url, std::string("TANDEM_DASHBOARD_TOKEN=") + kToken,
       "DASHBOARD_FIXTURE=" + fixture.dump()});
  // Every check ran and passed: node's TAP summary counts them (one more with screenshots).
  int checks = photographing ? 9 : 8;
  bool passed = driver.exit_code == 0 &&
                driver.out.find("# pass " + std::to_string(checks) + "\n") != std::string::npos &&
                driver.out.find("# fail 0\n") != std::string::npos;
  EXPECT_TRUE(passed) << "node exited with " << driver.exit_code << "\n"
                      << driver.out << driver.err;

  // The clicks happened in the database: paused by the browser, resumed through the API, paused
  // again, each an event with its actor; the other jobs and the other target untouched.
  EXPECT_EQ(QueryValue("SELECT status FROM tandem.jobs WHERE version = '5'"), "paused");
  EXPECT_EQ(QueryValue("SELECT string_agg(event, ',' ORDER BY id) FROM tandem.events WHERE "
                       "version = '5' AND event LIKE 'job.%'"),
            "job.queued,job.paused,job.queued,job.paused");
  EXPECT_EQ(QueryValue("SELECT bool_and(actor <> '') FROM tandem.events WHERE version = '5'"), "t");
  EXPECT_EQ(QueryValue("SELECT string_agg(version || '=' || status, ' ' ORDER BY version) FROM "
                       "tandem.jobs WHERE version <> '5'"),
            "2=running 3=failed 4=queued");
  EXPECT_EQ(QueryValueAt(other_url,
                         "SELECT string_agg(status, ' ' ORDER BY version) FROM "
                         "tandem.jobs"),
            "succeeded succeeded succeeded succeeded");
  // The token never reached the dashboard's output.
  std::string log = dir_.Read("dashboard.log");
  EXPECT_EQ(log.find(kToken), std::string::npos) << log;
}

}  // namespace
}  // namespace tandem::testing
