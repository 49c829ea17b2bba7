// /metrics and /healthz as the worker serves them: a real server, a scrape over a real socket
// that opens its own connection to the test's database (as the worker's scrape function does),
// and the exposition text parsed.
#include "server/worker_routes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "jobs/metrics.h"
#include "jobs/metrics_test_util.h"
#include "migrate/state.h"
#include "pg/url.h"
#include "testing/harness.h"

namespace tandem::testing {
namespace {

struct HttpReply {
  int status = 0;
  std::string head;
  std::string body;
};

// One GET over a fresh connection, read to its end.
HttpReply HttpGet(int port, const std::string& path) {
  HttpReply reply;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return reply;
  }
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string raw;
  char buffer[4096];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof buffer, 0)) > 0) raw.append(buffer, static_cast<size_t>(n));
  close(fd);
  size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  reply.head = raw.substr(0, end);
  reply.body = raw.substr(end + 4);
  return reply;
}

class WorkerRoutesTest : public PgTest {
 protected:
  server::ServerOptions Loopback() {
    server::ServerOptions options;
    options.address.port = 0;
    return options;
  }
  std::function<Result<std::string>()> ScrapeFunction(const std::string& url) {
    auto parsed = pg::ParseDatabaseUrl(url);
    EXPECT_TRUE(parsed.ok());
    return server::DatabaseMetrics(*parsed, "tandem", "main");
  }
};

TEST_F(WorkerRoutesTest, MetricsScrapedOverHttpAreParsedBack) {
  auto c = Connect();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(migrate::EnsureStateSchema(*c, "tandem").ok());
  ASSERT_TRUE(c->Exec("INSERT INTO tandem.jobs (kind, version, status, sql, checksum) VALUES "
                      "('post-deploy', '1', 'queued', 'SELECT 1', 'x'), "
                      "('post-deploy', '2', 'failed', 'SELECT 1', 'x')")
                  .ok());
  ASSERT_TRUE(
      migrate::RecordEvent(*c, "tandem", "2", "job.failed", R"({"duration_ms": 1500})").ok());

  server::WorkerRoutes routes;
  routes.metrics = ScrapeFunction(url());
  routes.health = [] {
    server::Health health;
    health.worker = "active";
    health.fields = {{"target", "main"}};
    return health;
  };
  auto server = server::StartWorkerServer(Loopback(), routes);
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  HttpReply metrics = HttpGet((*server)->port(), "/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_NE(metrics.head.find("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
            std::string::npos);
  Exposition e = ParseExposition(metrics.body);
  EXPECT_TRUE(e.errors.empty()) << ::testing::PrintToString(e.errors);
  EXPECT_EQ(e.Value(SampleKey("tandem_jobs", {{"target", "main"}, {"state", "queued"}})), 1);
  EXPECT_EQ(e.Value(SampleKey("tandem_jobs", {{"target", "main"}, {"state", "failed"}})), 1);
  EXPECT_EQ(e.Value(SampleKey("tandem_jobs_failed_total", {{"target", "main"}})), 1);
  EXPECT_EQ(
      e.Value(SampleKey("tandem_job_duration_seconds_bucket", {{"target", "main"}, {"le", "1"}})),
      0);
  EXPECT_EQ(
      e.Value(SampleKey("tandem_job_duration_seconds_bucket", {{"target", "main"}, {"le", "5"}})),
      1);
  EXPECT_EQ(e.Value(SampleKey("tandem_job_duration_seconds_sum", {{"target", "main"}})), 1.5);

  // The scrape's own connection is gone once it has answered (its backend exits shortly after).
  std::string left = "?";
  for (int i = 0; i < 50 && left != "0"; ++i) {
    if (i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    left = QueryValue(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tandem metrics'");
  }
  EXPECT_EQ(left, "0");

  HttpReply health = HttpGet((*server)->port(), "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_NE(health.head.find("Content-Type: application/json"), std::string::npos);
  EXPECT_EQ(health.body, "{\"status\":\"ok\",\"worker\":\"active\",\"target\":\"main\"}\n");
  (*server)->Stop();
}

// A database that cannot be reached: 503 and one line, with neither the password nor the
// connection string in it; /healthz says unavailable with 503.
TEST_F(WorkerRoutesTest, UnreachableDatabaseIs503WithoutTheConnectionString) {
  const std::string secret_url = "postgresql://tandem:hunter2secret@127.0.0.1:1/nowhere";
  server::WorkerRoutes routes;
  routes.metrics = ScrapeFunction(secret_url);
  routes.health = [] {
    server::Health health;
    health.status = Status::Unavailable("could not connect to database at 127.0.0.1:1")
                        .WithHint("check postgresql://tandem:hunter2secret@127.0.0.1:1/nowhere");
    return health;
  };
  auto server = server::StartWorkerServer(Loopback(), routes);
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  HttpReply metrics = HttpGet((*server)->port(), "/metrics");
  EXPECT_EQ(metrics.status, 503);
  EXPECT_EQ(metrics.body.rfind("metrics unavailable: ", 0), 0u) << metrics.body;
  EXPECT_EQ(metrics.body.find('\n'), metrics.body.size() - 1) << metrics.body;
  EXPECT_EQ(metrics.body.find("hunter2secret"), std::string::npos) << metrics.body;
  EXPECT_EQ(metrics.body.find("postgresql://"), std::string::npos) << metrics.body;

  HttpReply health = HttpGet((*server)->port(), "/healthz");
  EXPECT_EQ(health.status, 503);
  EXPECT_EQ(health.body,
            "{\"status\":\"unavailable\",\"worker\":\"standby\","
            "\"error\":\"could not connect to database at 127.0.0.1:1\"}\n");
}

TEST(HealthJsonTest, EscapesEveryValue) {
  server::Health health;
  health.worker = "active";
  health.fields = {{"target", "a\"<b>\n"}};
  health.status = Status::Unavailable("line one \"x\"\nline two");
  EXPECT_EQ(server::HealthJson(health),
            "{\"status\":\"unavailable\",\"worker\":\"active\",\"target\":\"a\\\"<b>\\n\","
            "\"error\":\"line one \\\"x\\\"\"}\n");
}

}  // namespace
}  // namespace tandem::testing
