// `tandem dashboard` and `tandem worker --http` as users run them: the real binary, its exit
// code and message when refusing an exposed address without a token, the line naming the real
// port, the pages it serves, and the token never printed.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include <nlohmann/json.hpp>

#include "dashboard/dashboard_test_util.h"
#include "migrate/state.h"
#include "testing/project_test.h"

namespace tandem::dashboard {
namespace {

using namespace std::chrono_literals;

class DashboardBinaryTest : public tandem::testing::ProjectTest {
 protected:
  // The port from the "... on http://127.0.0.1:PORT" line of `log`; 0 when it did not come.
  int PortFrom(const std::string& log) {
    for (int i = 0; i < 500; ++i) {
      std::string text = dir_.Read(log);
      size_t at = text.find("on http://127.0.0.1:");
      if (at != std::string::npos) return std::atoi(text.c_str() + at + 20);
      std::this_thread::sleep_for(20ms);
    }
    return 0;
  }
};

TEST_F(DashboardBinaryTest, RefusesAnExposedAddressWithoutAToken) {
  auto refused = Tandem({"dashboard", "--http", "0.0.0.0:0"}, {"TANDEM_DASHBOARD_TOKEN="});
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("refusing to serve the dashboard on 0.0.0.0:0 without a token"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find("TANDEM_DASHBOARD_TOKEN"), std::string::npos);
  // [dashboard] token_env names the variable that is checked.
  dir_.Write("tandem.toml", "[dashboard]\ntoken_env = \"OUR_DASH_TOKEN\"\n");
  auto renamed = Tandem({"dashboard", "--http", "[::]:0"}, {"TANDEM_DASHBOARD_TOKEN=x"});
  EXPECT_EQ(renamed.exit_code, 2) << renamed.err;
  EXPECT_NE(renamed.err.find("OUR_DASH_TOKEN"), std::string::npos) << renamed.err;
}

TEST_F(DashboardBinaryTest, ServesOnTheRealPortAndNeverPrintsTheToken) {
  auto c = Connect();
  ASSERT_TRUE(migrate::EnsureStateSchema(*c, "tandem").ok());
  ASSERT_TRUE(c->Exec("INSERT INTO tandem.jobs (kind, version, name, status, sql, checksum) "
                      "VALUES ('post-deploy', '7', 'drop_old', 'queued', 'SELECT 1', 'x')")
                  .ok());
  const std::string token = "never-print-me-5e1f";
  setenv("TANDEM_DASHBOARD_TOKEN", token.c_str(), 1);
  pid_t pid = Start({"dashboard", "--http", "127.0.0.1:0"}, "dashboard.log");
  unsetenv("TANDEM_DASHBOARD_TOKEN");
  int port = PortFrom("dashboard.log");
  ASSERT_GT(port, 0) << dir_.Read("dashboard.log");
  testing::Reply page;
  for (int i = 0; i < 100; ++i) {
    page = testing::Request(port, "GET", "/jobs");
    if (page.body.find("data-job-id=\"1\"") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(page.body.find("<td data-field=\"status\">queued</td>"), std::string::npos)
      << page.body;
  testing::Reply paused =
      testing::Request(port, "POST", "/api/jobs/1/pause", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(QueryValue("SELECT status FROM tandem.jobs WHERE id = 1"), "paused");
  kill(pid, SIGTERM);
  auto code = WaitForExit(pid);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0);
  std::string log = dir_.Read("dashboard.log");
  EXPECT_EQ(log.find(token), std::string::npos) << log;
  EXPECT_NE(log.find("serving the dashboard for 1 target on http://127.0.0.1:"), std::string::npos)
      << log;
}

TEST_F(DashboardBinaryTest, TheWorkerServesTheDashboardBesideItsMetrics) {
  pid_t pid = Start({"worker", "--http", "127.0.0.1:0"});
  int port = PortFrom("worker.log");
  ASSERT_GT(port, 0) << dir_.Read("worker.log");
  testing::Reply overview;
  for (int i = 0; i < 100; ++i) {
    overview = testing::Request(port, "GET", "/");
    if (overview.body.find("data-target=\"" + database() + "\"") != std::string::npos) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(overview.body.find("<tr data-target=\"" + database() + "\""), std::string::npos)
      << overview.body;
  EXPECT_EQ(testing::Request(port, "GET", "/metrics").status, 200);
  // Health is the worker's own (200 or 503 while it connects): served beside the dashboard.
  EXPECT_NE(testing::Request(port, "GET", "/healthz").body.find("\"worker\":"), std::string::npos);
  // No token: read-only.
  EXPECT_EQ(testing::Request(port, "POST", "/api/jobs/1/pause").status, 403);
  kill(pid, SIGTERM);
  ASSERT_TRUE(WaitForExit(pid).ok());
}

}  // namespace
}  // namespace tandem::dashboard
