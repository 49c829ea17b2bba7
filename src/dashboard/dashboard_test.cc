// The dashboard through its HTTP API and pages, on a real server (tandem's HttpServer on an
// ephemeral port) over a real database with real rows: every page and endpoint, the refusals
// (token, same origin, read-only) with the database checked unchanged, the XSS case, and the
// live stream receiving a transition made elsewhere.
#include "dashboard/dashboard.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "background/progress.h"
#include "dashboard/dashboard_test_util.h"
#include "jobs/transitions.h"
#include "migrate/state.h"
#include "testing/harness.h"

namespace tandem::dashboard {
namespace {

using namespace std::chrono_literals;
using testing::Reply;
using testing::Request;

constexpr const char* kToken = "tok-8f3e-secret";
constexpr const char* kXss = "<script>alert(1)</script>";

class DashboardTest : public tandem::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    db_ = Connect();
    ASSERT_NE(db_, nullptr);
    ASSERT_TRUE(migrate::EnsureStateSchema(*db_, "tandem").ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO tandem.migrations (version, name, phase, status, attempts,"
                          " started_at, duration_ms) VALUES ('1', 'create_users', 'pre-deploy',"
                          " 'succeeded', 1, now(), 12)")
                    .ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO tandem.migrations (version, name, phase, status, attempts,"
                          " error_sqlstate, error_message, error_statement, error_line) VALUES "
                          "('2', $1, 'post-deploy', 'failed', 2, '42P01', "
                          "'relation \"nope\" does not exist', 'INSERT INTO nope VALUES (1);', 3)",
                          {std::string(kXss)})
                    .ok());
    // Job 1: queued. Job 2: failed, its SQL with the failing statement on line 3.
    ASSERT_TRUE(db_->Exec("INSERT INTO tandem.jobs (kind, version, name, status, sql, checksum) "
                          "VALUES ('post-deploy', '3', 'add_index', 'queued', 'SELECT 1;', 'x')")
                    .ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO tandem.jobs (kind, version, name, status, sql, sql_line, "
                          "checksum, attempts, error_sqlstate, error_message, error_statement, "
                          "error_line, error_detail) VALUES ('post-deploy', '2', $1, 'failed', "
                          "$2, 2, 'x', 2, '42P01', 'relation \"nope\" does not exist', "
                          "'INSERT INTO nope VALUES (1);', 3, 'blocked by pid 4242: VACUUM')",
                          {std::string(kXss), "SELECT 1;\nINSERT INTO nope VALUES (1);"})
                    .ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (board_) board_->Stop();
    PgTest::TearDown();
  }

  // Serves the dashboard for this test's database (plus `extra` sources).
  void Serve(const std::string& token, std::vector<Source> extra = {}, int max_listen = 50) {
    DashboardOptions options;
    options.sources.push_back(MakeSource(database(), {"canary"}, url()));
    for (auto& s : extra) options.sources.push_back(std::move(s));
    options.token = token;
    options.store.refresh_interval = Duration(60'000);
    options.store.max_listen = max_listen;
    board_ = std::make_unique<Dashboard>(std::move(options));
    server::ServerOptions server_options;
    server_options.address.port = 0;
    server_options.authorize = board_->Authorizer();
    server_ = std::make_unique<server::HttpServer>(std::move(server_options));
    board_->AddRoutes(*server_);
    ASSERT_TRUE(server_->Start().ok());
    board_->Start();
    ASSERT_TRUE(board_->store().WaitLoaded(Duration(15'000)));
    port_ = server_->port();
  }

  std::string JobStatus(int id) {
    return QueryValue("SELECT status FROM tandem.jobs WHERE id = " + std::to_string(id));
  }
  std::string Origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string Target() const { return "?target=" + database(); }
  // Logs in through the form and returns the Cookie header value.
  std::string LogIn() {
    Reply login =
        Request(port_, "POST", "/login",
                {{"Origin", Origin()}, {"Content-Type", "application/x-www-form-urlencoded"}},
                std::string("token=") + kToken);
    EXPECT_EQ(login.status, 303);
    EXPECT_EQ(login.Header("Location"), "/");
    std::string set_cookie = login.Header("Set-Cookie");
    EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
    EXPECT_EQ(set_cookie.find(kToken), std::string::npos);  // a session id, not the token
    return set_cookie.substr(0, set_cookie.find(';'));
  }

  std::unique_ptr<pg::Connection> db_;
  std::unique_ptr<Dashboard> board_;
  std::unique_ptr<server::HttpServer> server_;
  int port_ = 0;
};

void ExpectPage(const Reply& reply) {
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.Header("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(reply.body.find("<main>"), std::string::npos);
  EXPECT_NE(reply.body.find("src=\"/assets/app.js\""), std::string::npos);
  EXPECT_NE(reply.body.find("href=\"/assets/app.css\""), std::string::npos);
  EXPECT_NE(reply.body.find("id=\"live\""), std::string::npos);
  EXPECT_NE(reply.Header("Content-Security-Policy").find("script-src 'self'"), std::string::npos);
}

TEST_F(DashboardTest, EveryPageRendersTheDatabaseState) {
  Serve(kToken);
  std::string name = database();
  Reply overview = Request(port_, "GET", "/");
  ExpectPage(overview);
  EXPECT_NE(overview.body.find("<tr data-target=\"" + name + "\" class=\"st-failed\">"),
            std::string::npos)
      << overview.body;
  // Filters: a state that matches nothing leaves no row; the group keeps it.
  EXPECT_EQ(Request(port_, "GET", "/?state=ok").body.find("data-target=\"" + name + "\""),
            std::string::npos);
  EXPECT_NE(Request(port_, "GET", "/?state=failed&group=canary").body.find("data-target=\"" + name),
            std::string::npos);

  Reply jobs = Request(port_, "GET", "/jobs");
  ExpectPage(jobs);
  EXPECT_NE(jobs.body.find("<tr data-job-id=\"1\" data-target=\"" + name + "\""),
            std::string::npos);
  EXPECT_NE(jobs.body.find("<td data-field=\"status\">queued</td>"), std::string::npos);
  EXPECT_NE(jobs.body.find("<td data-field=\"status\">failed</td>"), std::string::npos);

  Reply target = Request(port_, "GET", "/targets/" + name);
  ExpectPage(target);
  EXPECT_NE(target.body.find("data-job-id=\"2\""), std::string::npos);
  EXPECT_NE(target.body.find("create_users"), std::string::npos);
  EXPECT_NE(target.body.find("<h2>Recent events</h2>"), std::string::npos);

  Reply job = Request(port_, "GET", "/targets/" + name + "/jobs/2");
  ExpectPage(job);
  EXPECT_NE(job.body.find("data-field=\"status\" class=\"status s-failed\">failed<"),
            std::string::npos);
  EXPECT_NE(job.body.find("<form method=\"post\" action=\"/api/jobs/2/retry?target=" + name +
                          "\" class=\"action\"><button type=\"submit\" data-action=\"retry\""),
            std::string::npos)
      << job.body;
  // Pause is not allowed for a failed job: rendered hidden, for the script to show later.
  EXPECT_NE(
      job.body.find("action=\"/api/jobs/2/pause?target=" + name + "\" class=\"action\" hidden>"),
      std::string::npos);
  // The failing statement (file line 3) is marked, with its SQLSTATE and the blockers.
  EXPECT_NE(job.body.find("<span class=\"line stmt-err line-err\" data-line=\"3\">"),
            std::string::npos)
      << job.body;
  EXPECT_NE(job.body.find("42P01"), std::string::npos);
  EXPECT_NE(job.body.find("blocked by pid 4242: VACUUM"), std::string::npos);

  Reply migration = Request(port_, "GET", "/targets/" + name + "/migrations/2");
  ExpectPage(migration);
  EXPECT_NE(migration.body.find("line-err"), std::string::npos);
  EXPECT_NE(migration.body.find("relation &quot;nope&quot; does not exist"), std::string::npos);

  ExpectPage(Request(port_, "GET", "/events"));
  Reply login = Request(port_, "GET", "/login");
  ExpectPage(login);
  EXPECT_NE(login.body.find("<input name=\"token\" type=\"password\""), std::string::npos);
  EXPECT_NE(login.body.find("<button type=\"submit\">"), std::string::npos);

  Reply js = Request(port_, "GET", "/assets/app.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_NE(js.Header("Content-Type").find("javascript"), std::string::npos);
  EXPECT_NE(js.body.find("EventSource('/api/stream')"), std::string::npos);
  EXPECT_EQ(Request(port_, "GET", "/assets/app.css").status, 200);
  EXPECT_EQ(Request(port_, "GET", "/favicon.ico").status, 200);
  EXPECT_EQ(Request(port_, "GET", "/targets/nope").status, 404);
  EXPECT_EQ(Request(port_, "GET", "/targets/" + name + "/jobs/99").status, 404);
}

TEST_F(DashboardTest, JsonApiAnswersFromTheDatabase) {
  Serve(kToken);
  std::string name = database();
  auto targets = nlohmann::json::parse(Request(port_, "GET", "/api/targets").body);
  ASSERT_EQ(targets["targets"].size(), 1u);
  EXPECT_EQ(targets["targets"][0]["target"], name);
  EXPECT_EQ(targets["targets"][0]["state"], "failed");
  EXPECT_EQ(targets["targets"][0]["jobs"]["queued"], 1);
  EXPECT_EQ(targets["targets"][0]["migrations"]["failed"], 1);
  EXPECT_EQ(targets["targets"][0]["oldest_queued"]["job"], 1);
  EXPECT_EQ(targets["read_only"], false);
  // The URL is shown without its password (the harness's URL has none; Redacted's own tests
  // cover one that has).
  EXPECT_EQ(targets["targets"][0]["url"], MakeSource("x", {}, url()).redacted);

  auto migrations =
      nlohmann::json::parse(Request(port_, "GET", "/api/targets/" + name + "/migrations").body);
  ASSERT_EQ(migrations["migrations"].size(), 2u);
  EXPECT_EQ(migrations["migrations"][1]["name"], kXss);
  EXPECT_EQ(migrations["migrations"][1]["error"]["sqlstate"], "42P01");

  auto jobs = nlohmann::json::parse(Request(port_, "GET", "/api/jobs?status=failed").body);
  ASSERT_EQ(jobs["jobs"].size(), 1u);
  EXPECT_EQ(jobs["jobs"][0]["id"], 2);
  EXPECT_EQ(jobs["jobs"][0]["target"], name);

  auto job = nlohmann::json::parse(Request(port_, "GET", "/api/jobs/2" + Target()).body);
  EXPECT_EQ(job["status"], "failed");
  EXPECT_EQ(job["sql"], "SELECT 1;\nINSERT INTO nope VALUES (1);");
  EXPECT_EQ(job["error"]["detail"], "blocked by pid 4242: VACUUM");
  EXPECT_EQ(Request(port_, "GET", "/api/jobs/77").status, 404);  // one target: ?target optional

  ASSERT_TRUE(jobs::Pause(*db_, "tandem", 1, {"alice", "maintenance window"}).ok());
  auto events =
      nlohmann::json::parse(Request(port_, "GET", "/api/events" + Target() + "&after=0").body);
  ASSERT_GE(events["events"].size(), 1u);
  EXPECT_EQ(events["events"].back()["event"], "job.paused");
  EXPECT_EQ(events["events"].back()["actor"], "alice");
  long long last = events["events"].back()["id"];
  auto none = nlohmann::json::parse(
      Request(port_, "GET", "/api/events?after=" + std::to_string(last)).body);
  EXPECT_TRUE(none["events"].empty());
  EXPECT_EQ(
      nlohmann::json::parse(Request(port_, "GET", "/api/events?version=3").body)["events"].size(),
      1u);
}

TEST_F(DashboardTest, NamesFromTheDatabaseAreEscapedEverywhere) {
  Serve(kToken);
  std::string name = database();
  for (const std::string& path :
       {std::string("/"), std::string("/jobs"), "/targets/" + name, "/targets/" + name + "/jobs/2",
        "/targets/" + name + "/migrations/2", std::string("/events")}) {
    Reply page = Request(port_, "GET", path);
    ASSERT_EQ(page.status, 200) << path;
    EXPECT_EQ(page.body.find(kXss), std::string::npos) << path;
    EXPECT_EQ(page.body.find("<script>alert"), std::string::npos) << path;
    if (path != "/" && path != "/events") {
      EXPECT_NE(page.body.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << path;
    }
  }
}

TEST_F(DashboardTest, ActionsNeedTheTokenAndTheSameOriginAndChangeNothingOtherwise) {
  Serve(kToken);
  std::string pause = "/api/jobs/1/pause" + Target();
  // No credentials: 401.
  EXPECT_EQ(Request(port_, "POST", pause, {{"Origin", Origin()}}).status, 401);
  // A wrong token: 401.
  EXPECT_EQ(Request(port_, "POST", pause, {{"Authorization", "Bearer wrong"}}).status, 401);
  // The right token sent from another site: 403.
  EXPECT_EQ(Request(port_, "POST", pause,
                    {{"Authorization", std::string("Bearer ") + kToken},
                     {"Origin", "http://evil.example"}})
                .status,
            403);
  EXPECT_EQ(Request(port_, "POST", pause,
                    {{"Authorization", std::string("Bearer ") + kToken},
                     {"Sec-Fetch-Site", "cross-site"}})
                .status,
            403);
  EXPECT_EQ(JobStatus(1), "queued");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events"), "0");

  // A session from the login form, used from another origin or without any origin header: 403.
  std::string cookie = LogIn();
  EXPECT_EQ(
      Request(port_, "POST", pause, {{"Cookie", cookie}, {"Origin", "http://evil.example"}}).status,
      403);
  EXPECT_EQ(Request(port_, "POST", pause, {{"Cookie", cookie}}).status, 403);
  EXPECT_EQ(Request(port_, "POST", pause,
                    {{"Cookie", "tandem_session=" + std::string(64, 'a')}, {"Origin", Origin()}})
                .status,
            401);
  // A login form posted from another site does not log anyone in.
  Reply foreign = Request(port_, "POST", "/login", {{"Origin", "http://evil.example"}},
                          std::string("token=") + kToken);
  EXPECT_EQ(foreign.status, 403);
  EXPECT_EQ(foreign.Header("Set-Cookie"), "");
  Reply wrong = Request(port_, "POST", "/login", {{"Origin", Origin()}}, "token=nope");
  EXPECT_EQ(wrong.status, 303);
  EXPECT_EQ(wrong.Header("Set-Cookie"), "");
  EXPECT_EQ(JobStatus(1), "queued");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events"), "0");

  // The session from the dashboard's own page (fetch with Accept: JSON): done, with the actor.
  Reply paused = Request(port_, "POST", pause,
                         {{"Cookie", cookie},
                          {"Origin", Origin()},
                          {"Accept", "application/json"},
                          {"Content-Type", "application/x-www-form-urlencoded"}},
                         "reason=deploy+freeze");
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(nlohmann::json::parse(paused.body)["status"], "paused");
  EXPECT_EQ(JobStatus(1), "paused");
  EXPECT_EQ(QueryValue("SELECT actor || ' / ' || (detail->>'reason') FROM tandem.events "
                       "WHERE event = 'job.paused'"),
            "dashboard 127.0.0.1 / deploy freeze");
  // A plain form (no script) gets the job page back.
  Reply resumed = Request(port_, "POST", "/api/jobs/1/resume" + Target(),
                          {{"Cookie", cookie}, {"Sec-Fetch-Site", "same-origin"}});
  EXPECT_EQ(resumed.status, 303);
  EXPECT_EQ(resumed.Header("Location"), "/targets/" + database() + "/jobs/1");
  EXPECT_EQ(JobStatus(1), "queued");
  // A script with the token and no browser headers.
  Reply cancel = Request(port_, "POST", "/api/jobs/1/cancel",
                         {{"Authorization", std::string("Bearer ") + kToken}});
  EXPECT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(JobStatus(1), "cancelled");
  // A transition the state does not allow: 409, nothing changed.
  Reply approve = Request(port_, "POST", "/api/jobs/2/approve",
                          {{"Authorization", std::string("Bearer ") + kToken}});
  EXPECT_EQ(approve.status, 409);
  EXPECT_EQ(JobStatus(2), "failed");
  EXPECT_EQ(Request(port_, "POST", "/api/jobs/99/pause",
                    {{"Authorization", std::string("Bearer ") + kToken}})
                .status,
            404);
  // Logging out ends the session.
  EXPECT_EQ(Request(port_, "POST", "/logout", {{"Cookie", cookie}, {"Origin", Origin()}}).status,
            303);
  EXPECT_EQ(Request(port_, "POST", "/api/jobs/2/retry" + Target(),
                    {{"Cookie", cookie}, {"Origin", Origin()}})
                .status,
            401);
  EXPECT_EQ(JobStatus(2), "failed");
}

TEST_F(DashboardTest, WithoutATokenItIsReadOnly) {
  Serve("");
  Reply refused = Request(port_, "POST", "/api/jobs/1/pause",
                          {{"Authorization", "Bearer anything"}, {"Origin", Origin()}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("read-only"), std::string::npos);
  EXPECT_EQ(Request(port_, "POST", "/login", {{"Origin", Origin()}}, "token=").status, 403);
  EXPECT_EQ(JobStatus(1), "queued");
  EXPECT_EQ(QueryValue("SELECT count(*) FROM tandem.events"), "0");
  Reply job = Request(port_, "GET", "/targets/" + database() + "/jobs/1");
  EXPECT_NE(job.body.find("Read-only"), std::string::npos);
  EXPECT_NE(job.body.find("data-action=\"pause\""), std::string::npos);
  EXPECT_NE(job.body.find(" disabled>Pause</button>"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(Request(port_, "GET", "/api/targets").body)["read_only"], true);
}

TEST_F(DashboardTest, TheStreamCarriesATransitionMadeElsewhere) {
  Serve(kToken);
  testing::StreamReader stream(port_, "/api/stream");
  ASSERT_TRUE(stream.ReadUntil(": connected", 5s)) << stream.received();
  // `tandem jobs pause` from another process would do exactly this: a transition and its NOTIFY.
  ASSERT_TRUE(jobs::Pause(*db_, "tandem", 1, {"bob", ""}).ok());
  ASSERT_TRUE(stream.ReadUntil("\"status\":\"paused\"", 5s)) << stream.received();
  const std::string& text = stream.received();
  size_t data = text.rfind("data: ", text.find("\"status\":\"paused\""));
  auto event = nlohmann::json::parse(text.substr(data + 6, text.find('\n', data) - data - 6));
  EXPECT_EQ(event["type"], "job");
  EXPECT_EQ(event["target"], database());
  EXPECT_EQ(event["job"], 1);
  // One LISTEN connection for the target, whatever the number of open streams.
  testing::StreamReader second(port_, "/api/stream");
  ASSERT_TRUE(second.ReadUntil(": connected", 5s));
  EXPECT_EQ(board_->store().listening(), 1);
  EXPECT_EQ(QueryValue("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                       "'tandem dashboard' AND datname = current_database()"),
            "1");
}

// Hundreds of targets: every one in the grid, the table a page of 100 at a time, failures first.
TEST_F(DashboardTest, TheOverviewTableOfAFleetIsPagedAndTheGridShowsEveryTarget) {
  std::vector<Source> extra;
  for (int i = 0; i < 149; ++i) {
    extra.push_back(
        MakeSource("down-" + std::to_string(1000 + i), {}, "postgresql://u@127.0.0.1:1/x"));
  }
  Serve(kToken, std::move(extra), 1);
  auto count = [](const std::string& body, const std::string& needle) {
    size_t n = 0;
    for (size_t at = body.find(needle); at != std::string::npos; at = body.find(needle, at + 1)) {
      ++n;
    }
    return n;
  };
  Reply first = Request(port_, "GET", "/");
  ExpectPage(first);
  EXPECT_EQ(count(first.body, "<tr data-target="), 100u);
  EXPECT_EQ(count(first.body, "<a class=\"cell "), 150u);
  EXPECT_NE(first.body.find("targets 1–100 of 150"), std::string::npos) << first.body;
  EXPECT_NE(first.body.find("href=\"/?page=2\""), std::string::npos);
  // The reachable target is not a failure: it sorts after the 149 unreachable ones.
  EXPECT_EQ(first.body.find("<tr data-target=\"" + database() + "\""), std::string::npos);
  Reply second = Request(port_, "GET", "/?page=2");
  EXPECT_EQ(count(second.body, "<tr data-target="), 50u);
  EXPECT_NE(second.body.find("<tr data-target=\"" + database() + "\""), std::string::npos);
  EXPECT_NE(second.body.find("href=\"/?page=1\""), std::string::npos);
  // A filter keeps its rows on one page, and the links keep the filter.
  Reply filtered = Request(port_, "GET", "/?state=unreachable&page=2");
  EXPECT_EQ(count(filtered.body, "<tr data-target="), 49u);
  EXPECT_NE(filtered.body.find("href=\"/?page=1&amp;state=unreachable\""), std::string::npos)
      << filtered.body;
  EXPECT_EQ(count(Request(port_, "GET", "/?page=99").body, "<tr data-target="), 50u);
}

TEST_F(DashboardTest, FleetsNameTheTargetAndShowUnreachableOnesFirst) {
  // A second target on a port where nothing listens, beyond the LISTEN cap (polled).
  Serve(kToken, {MakeSource("zz-down", {"canary"}, "postgresql://u:hunter2@127.0.0.1:1/x")}, 1);
  Reply overview = Request(port_, "GET", "/");
  size_t down = overview.body.find("<tr data-target=\"zz-down\" class=\"st-unreachable\">");
  size_t up = overview.body.find("<tr data-target=\"" + database() + "\"");
  ASSERT_NE(down, std::string::npos) << overview.body;
  EXPECT_LT(down, up);  // failures first
  EXPECT_EQ(overview.body.find("hunter2"), std::string::npos);
  EXPECT_EQ(Request(port_, "GET", "/api/targets").body.find("hunter2"), std::string::npos);
  EXPECT_EQ(Request(port_, "GET", "/targets/zz-down").body.find("hunter2"), std::string::npos);
  // The fleet's events: the reachable targets merged, with the pause below among them later.
  Reply events = Request(port_, "GET", "/events");
  ExpectPage(events);
  EXPECT_NE(events.body.find("The newest 50 events of 1 of 2 targets"), std::string::npos)
      << events.body;
  // Several targets: an action must say which.
  Reply ambiguous = Request(port_, "POST", "/api/jobs/1/pause",
                            {{"Authorization", std::string("Bearer ") + kToken}});
  EXPECT_EQ(ambiguous.status, 400);
  EXPECT_EQ(JobStatus(1), "queued");
  EXPECT_EQ(Request(port_, "POST", "/api/jobs/1/pause?target=" + database(),
                    {{"Authorization", std::string("Bearer ") + kToken}})
                .status,
            200);
  EXPECT_EQ(JobStatus(1), "paused");
  auto feed = nlohmann::json::parse(Request(port_, "GET", "/api/events").body);
  EXPECT_EQ(feed["targets_read"], 1);
  ASSERT_EQ(feed["events"].size(), 1u);
  EXPECT_EQ(feed["events"][0]["target"], database());
}

TEST_F(DashboardTest, ABackgroundJobShowsItsProgressThrottleAndChart) {
  background::Progress progress;
  progress.key_kind = "integer";
  progress.rows_done = 25'000;
  progress.estimated_total = 100'000;
  progress.batch_size = 5'000;
  progress.rate = 5'000;
  progress.batches = 5;
  progress.throttled_reason = "replication lag";
  progress.throttled_value = "6.2s";
  background::RecordBatch(progress, 1'000'000, 10'000, 2'000);
  background::RecordBatch(progress, 1'010'000, 15'000, 2'500);
  ASSERT_TRUE(db_->Exec("INSERT INTO tandem.jobs (kind, version, name, status, sql, checksum, "
                        "batch, progress) VALUES ('background', '9', 'backfill_email', 'running',"
                        " 'UPDATE users SET e = 1 WHERE id >= :batch_start AND id < :batch_end',"
                        " 'x', '{\"table\":\"users\",\"key\":\"id\",\"size\":\"auto\"}', $1)",
                        {background::ToText(progress)})
                  .ok());
  Serve(kToken);
  Reply job = Request(port_, "GET", "/targets/" + database() + "/jobs/3");
  ExpectPage(job);
  EXPECT_NE(job.body.find("<progress max=\"100\" value=\"25\""), std::string::npos) << job.body;
  EXPECT_NE(job.body.find("25,000 of ~100,000"), std::string::npos);
  EXPECT_NE(job.body.find("5,000 rows/s"), std::string::npos);
  EXPECT_NE(job.body.find("<strong>throttled</strong>: replication lag 6.2s"), std::string::npos);
  EXPECT_NE(job.body.find("<svg"), std::string::npos);
  EXPECT_NE(job.body.find("<polyline class=\"rate\""), std::string::npos);
  EXPECT_NE(job.body.find("<polyline class=\"duration\""), std::string::npos);
  // The overview shows it as the target's running job, with its progress.
  Reply overview = Request(port_, "GET", "/");
  EXPECT_NE(overview.body.find("9 backfill_email</a> <progress"), std::string::npos)
      << overview.body;
  auto api = nlohmann::json::parse(Request(port_, "GET", "/api/jobs/3").body);
  EXPECT_EQ(api["progress"]["rows_done"], 25'000);
  EXPECT_EQ(api["progress"]["history"].size(), 2u);
}

TEST(DashboardAddress, RefusesAnAddressOthersReachWithoutAToken) {
  server::ListenAddress any{"0.0.0.0", 7420};
  Status refused = CheckListenAddress(any, false, "TANDEM_DASHBOARD_TOKEN");
  EXPECT_EQ(refused.code(), StatusCode::kInvalidInput);
  EXPECT_NE(refused.message().find("0.0.0.0:7420"), std::string::npos);
  EXPECT_TRUE(CheckListenAddress(any, true, "X").ok());
  EXPECT_TRUE(CheckListenAddress({"127.0.0.1", 0}, false, "X").ok());
  EXPECT_TRUE(CheckListenAddress({"::1", 0}, false, "X").ok());
}

}  // namespace
}  // namespace tandem::dashboard
