// The notifier against the real server: events rows written the way job transitions write
// them, a Notifier sending to a test HTTP receiver.
#include "notify/notifier.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <regex>
#include <thread>

#include "base/process.h"
#include "migrate/state.h"
#include "testing/harness.h"
#include "testing/http_receiver.h"

namespace tandem::notify {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testing::HttpReceiver;
using Clock = std::chrono::steady_clock;

struct Logs {
  std::mutex mutex;
  std::vector<std::string> lines;
  LogFunction Function() {
    return [this](std::string_view level, std::string_view message, const json& fields) {
      std::lock_guard<std::mutex> lock(mutex);
      lines.push_back(std::string(level) + " " + std::string(message) + " " + fields.dump());
    };
  }
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mutex);
    return lines;
  }
  size_t Count(const std::string& needle) {
    size_t n = 0;
    for (const std::string& line : Lines()) n += line.find(needle) != std::string::npos;
    return n;
  }
};

class NotifierTest : public testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    connection_ = Connect();
    ASSERT_TRUE(connection_);
    Status status = migrate::EnsureStateSchema(*connection_, "tandem");
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  // A job transition's event, as src/jobs/transitions.h documents it.
  long long AddEvent(const std::string& state, int job = 7, pg::Connection* on = nullptr) {
    json detail = {{"job", job},          {"kind", "post-deploy"}, {"name", "add_index"},
                   {"from", "running"},   {"to", state},           {"attempt", 1},
                   {"duration_ms", 1500}, {"reason", "test"}};
    if (state == "failed") {
      detail["error"] = {{"sqlstate", "42P01"},
                         {"message", "relation \"x\" does not exist"},
                         {"statement", "SELECT 1 FROM x"},
                         {"file", "db/migrations/1_a.sql"},
                         {"line", 3},
                         {"column", 1}};
    }
    return AddRawEvent("job." + state, detail, on);
  }
  long long AddRawEvent(const std::string& event, const json& detail,
                        pg::Connection* on = nullptr) {
    auto result = (on ? on : connection_.get())
                      ->Query(
                          "INSERT INTO tandem.events (version, event, actor, detail) "
                          "VALUES ('20261130', $1, 'tester', $2) RETURNING id",
                          {event, detail.dump()});
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? result->GetInt(0, 0) : 0;
  }

  NotifierOptions Options(std::vector<config::NotifyChannel> channels) {
    NotifierOptions options;
    auto url = pg::ParseDatabaseUrl(this->url());
    EXPECT_TRUE(url.ok());
    options.url = *url;
    options.channels = std::move(channels);
    options.target = "shop";
    options.poll_interval = milliseconds(200);
    options.backoff_initial = milliseconds(20);
    options.backoff_max = milliseconds(40);
    options.log = logs_.Function();
    return options;
  }

  std::unique_ptr<Notifier> StartNotifier(NotifierOptions options) {
    auto notifier = Notifier::Start(std::move(options));
    EXPECT_TRUE(notifier.ok()) << notifier.status().ToString();
    return notifier.ok() ? std::move(notifier).value() : nullptr;
  }

  // A channel's cursor is created when the notifier first looks at it: events added before
  // that are history, not sent.
  void WaitForCursors(int count) {
    for (int i = 0; i < 200; ++i) {
      if (QueryValue("SELECT count(*) FROM tandem.notify_cursors") == std::to_string(count)) {
        return;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    ADD_FAILURE() << "the notifier did not create " << count << " cursor(s) within 10 s";
  }

  static config::NotifyChannel Channel(const std::string& kind, const std::string& url,
                                       std::vector<std::string> events = {}) {
    config::NotifyChannel channel;
    channel.kind = kind;
    channel.url = url;
    channel.events = std::move(events);
    return channel;
  }

  static long long EventIdOf(const HttpReceiver::Request& request) {
    return json::parse(request.body).value("event_id", 0LL);
  }

  std::unique_ptr<pg::Connection> connection_;
  Logs logs_;
};

TEST_F(NotifierTest, DeliversEachWantedEventOnceInOrderAndKeepsItsPlace) {
  HttpReceiver slack, webhook;
  AddEvent("failed");  // before the channel existed: not replayed
  auto notifier = StartNotifier(
      Options({Channel("slack", slack.Url("/services/T0/B0/SECRET123")),
               Channel("webhook", webhook.Url("/hooks/SECRET123"), {"failed", "succeeded"})}));
  ASSERT_TRUE(notifier);
  // Wait until both cursors exist, so that what follows counts as new.
  WaitForCursors(2);
  long long running = AddEvent("running");
  long long failed = AddEvent("failed");
  AddRawEvent("applied", json::object());  // not a job event: never sent
  long long queued = AddEvent("queued");
  long long succeeded = AddEvent("succeeded");
  notifier->Wake();
  ASSERT_TRUE(slack.WaitForRequests(4, milliseconds(5000)));
  ASSERT_TRUE(webhook.WaitForRequests(2, milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(800));  // several polls: nothing is sent twice

  auto slack_requests = slack.Requests();
  ASSERT_EQ(slack_requests.size(), 4u);
  EXPECT_EQ(slack_requests[0].target, "/services/T0/B0/SECRET123");
  std::vector<std::string> texts;
  for (const auto& r : slack_requests) texts.push_back(json::parse(r.body)["text"]);
  EXPECT_EQ(texts,
            (std::vector<std::string>{":arrow_forward: shop: 20261130 add_index running",
                                      ":x: shop: 20261130 add_index failed",
                                      ":information_source: shop: 20261130 add_index queued",
                                      ":white_check_mark: shop: 20261130 add_index succeeded"}));
  std::string failed_block = json::parse(slack_requests[1].body)["blocks"][0]["text"]["text"];
  EXPECT_NE(failed_block.find("`SQLSTATE 42P01`"), std::string::npos) << failed_block;
  EXPECT_NE(failed_block.find("`db/migrations/1_a.sql:3:1`"), std::string::npos);
  EXPECT_NE(failed_block.find("`tandem jobs retry 7`"), std::string::npos);

  auto webhook_requests = webhook.Requests();
  ASSERT_EQ(webhook_requests.size(), 2u);
  json document = json::parse(webhook_requests[0].body);
  EXPECT_EQ(document["schema_version"], 1);
  EXPECT_EQ(document["type"], "job.failed");
  EXPECT_EQ(document["event_id"], failed);
  EXPECT_EQ(document["target"], "shop");
  EXPECT_TRUE(std::regex_match(document["at"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << document["at"];
  EXPECT_EQ(document["actor"], "tester");
  EXPECT_EQ(document["job"]["version"], "20261130");
  EXPECT_EQ(document["job"]["id"], 7);
  EXPECT_EQ(document["error"]["sqlstate"], "42P01");
  EXPECT_EQ(document["next"], json::array({"tandem jobs retry 7", "tandem jobs cancel 7"}));
  EXPECT_EQ(EventIdOf(webhook_requests[1]), succeeded);

  // The cursors name the channel by a hash, never the URL, and stand at the last event.
  auto cursors = connection_->Query(
      "SELECT channel, last_event_id FROM tandem.notify_cursors ORDER BY channel");
  ASSERT_TRUE(cursors.ok());
  ASSERT_EQ(cursors->rows(), 2u);
  EXPECT_EQ(cursors->Get(0, 0), ChannelKey("slack", slack.Url("/services/T0/B0/SECRET123")));
  EXPECT_EQ(cursors->GetInt(0, 1), succeeded);
  EXPECT_EQ(cursors->Get(1, 0), ChannelKey("webhook", webhook.Url("/hooks/SECRET123")));
  EXPECT_EQ(cursors->GetInt(1, 1), succeeded);
  (void)running;
  (void)queued;

  // A restarted notifier goes on from its cursors: only what is new is sent.
  notifier->Stop();
  notifier.reset();
  long long paused = AddEvent("paused");
  notifier = StartNotifier(
      Options({Channel("slack", slack.Url("/services/T0/B0/SECRET123")),
               Channel("webhook", webhook.Url("/hooks/SECRET123"), {"failed", "succeeded"})}));
  ASSERT_TRUE(slack.WaitForRequests(5, milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(600));
  ASSERT_EQ(slack.Requests().size(), 5u);
  EXPECT_NE(
      json::parse(slack.Requests()[4].body)["blocks"][0]["text"]["text"].get<std::string>().find(
          "`tandem jobs resume 7`"),
      std::string::npos);
  EXPECT_EQ(webhook.Requests().size(), 2u);
  EXPECT_EQ(QueryValue("SELECT min(last_event_id) FROM tandem.notify_cursors"),
            std::to_string(paused));
}

TEST_F(NotifierTest, HonoursRetryAfterOn429) {
  HttpReceiver receiver;
  receiver.Script({HttpReceiver::Reply{429, {{"Retry-After", "1"}}, "slow down", false, false}});
  auto notifier = StartNotifier(Options({Channel("webhook", receiver.Url("/hooks/SECRET123"))}));
  ASSERT_TRUE(notifier);
  WaitForCursors(1);
  long long id = AddEvent("failed");
  notifier->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(2, milliseconds(5000)));
  auto requests = receiver.Requests();
  EXPECT_EQ(EventIdOf(requests[0]), id);
  EXPECT_EQ(requests[0].body, requests[1].body);
  // The backoff alone would have retried after 10-20 ms.
  EXPECT_GE(requests[1].received - requests[0].received, milliseconds(1000));
  EXPECT_LT(requests[1].received - requests[0].received, milliseconds(4000));
  EXPECT_EQ(logs_.Count("could not send a notification: HTTP 429"), 1u);
}

TEST_F(NotifierTest, BacksOffOnServerErrorsThenDelivers) {
  HttpReceiver receiver;
  receiver.Script({HttpReceiver::Reply{500, {}, "oops", false, false},
                   HttpReceiver::Reply{503, {}, "oops", false, false}});
  NotifierOptions options = Options({Channel("slack", receiver.Url("/hooks/SECRET123"))});
  options.backoff_initial = milliseconds(200);
  options.backoff_max = milliseconds(1000);
  auto notifier = StartNotifier(std::move(options));
  ASSERT_TRUE(notifier);
  WaitForCursors(1);
  long long first = AddEvent("failed");
  long long second = AddEvent("succeeded");
  notifier->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(4, milliseconds(5000)));
  std::this_thread::sleep_for(milliseconds(500));
  auto requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 4u);
  // Equal jitter: the n-th wait is between half of 200 ms * 2^(n-1) and all of it.
  EXPECT_GE(requests[1].received - requests[0].received, milliseconds(100));
  EXPECT_GE(requests[2].received - requests[1].received, milliseconds(200));
  EXPECT_EQ(requests[0].body, requests[2].body);
  EXPECT_NE(requests[2].body, requests[3].body);  // in order: the second only after the first
  EXPECT_NE(json::parse(requests[3].body)["text"].get<std::string>().find("succeeded"),
            std::string::npos);
  EXPECT_EQ(QueryValue("SELECT last_event_id FROM tandem.notify_cursors"), std::to_string(second));
  (void)first;
}

TEST_F(NotifierTest, GivesUpAfterEightTriesAndRecordsIt) {
  HttpReceiver receiver;
  std::vector<HttpReceiver::Reply> failures(8, HttpReceiver::Reply{500, {}, "no", false, false});
  receiver.Script(failures);
  std::string url = receiver.Url("/hooks/SECRET123");
  auto notifier = StartNotifier(Options({Channel("webhook", url)}));
  ASSERT_TRUE(notifier);
  WaitForCursors(1);
  long long lost = AddEvent("failed");
  long long next = AddEvent("cancelled");
  notifier->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(9, milliseconds(10000)));
  std::this_thread::sleep_for(milliseconds(500));
  auto requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 9u);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(EventIdOf(requests[i]), lost) << i;
  EXPECT_EQ(EventIdOf(requests[8]), next);

  auto failed = connection_->Query(
      "SELECT version, actor, detail::text FROM tandem.events WHERE event = 'notify.failed'");
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->rows(), 1u);
  EXPECT_EQ(failed->Get(0, 0), "20261130");
  json detail = json::parse(failed->Get(0, 2));
  EXPECT_EQ(detail["channel_kind"], "webhook");
  EXPECT_EQ(detail["channel"], ChannelKey("webhook", url));
  EXPECT_EQ(detail["event_id"], lost);
  EXPECT_EQ(detail["job"], 7);
  EXPECT_EQ(detail["tries"], 8);
  EXPECT_EQ(detail["last_status"], 500);
  EXPECT_EQ(detail["last_error"], "HTTP 500");
  EXPECT_EQ(logs_.Count("gave up on a notification after 8 tries"), 1u);
}

TEST_F(NotifierTest, TwoReplicasDeliverEachEventExactlyOnce) {
  HttpReceiver receiver;
  std::string url = receiver.Url("/hooks/SECRET123");
  auto first = StartNotifier(Options({Channel("webhook", url)}));
  auto second = StartNotifier(Options({Channel("webhook", url)}));
  ASSERT_TRUE(first && second);
  WaitForCursors(1);
  std::vector<long long> ids;
  for (int i = 0; i < 20; ++i) {
    ids.push_back(AddEvent(i % 2 ? "running" : "succeeded", i));
    first->Wake();
    second->Wake();
  }
  ASSERT_TRUE(receiver.WaitForRequests(20, milliseconds(10000)));
  std::this_thread::sleep_for(milliseconds(1000));
  // Whichever held the lock goes away; the other takes over from the cursor.
  first->Stop();
  for (int i = 0; i < 5; ++i) ids.push_back(AddEvent("queued", 100 + i));
  second->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(25, milliseconds(10000)));
  std::this_thread::sleep_for(milliseconds(1000));
  std::vector<long long> received;
  for (const auto& r : receiver.Requests()) received.push_back(EventIdOf(r));
  EXPECT_EQ(received, ids);
}

TEST_F(NotifierTest, UrlsNeverAppearInLogsEventsOrCursors) {
  HttpReceiver receiver;
  receiver.Script({HttpReceiver::Reply{500, {}, "no", false, false}});
  setenv("TANDEM_TEST_SLACK_URL", receiver.Url("/hooks/SECRET123").c_str(), 1);
  int closed_port;
  {
    HttpReceiver closed;
    closed_port = closed.port();
  }
  config::NotifyChannel from_env;
  from_env.kind = "slack";
  from_env.url_env = "TANDEM_TEST_SLACK_URL";
  NotifierOptions options =
      Options({from_env, Channel("webhook", "http://127.0.0.1:" + std::to_string(closed_port) +
                                                "/SECRET456")});
  options.max_tries = 2;
  auto notifier = StartNotifier(std::move(options));
  ASSERT_TRUE(notifier);
  WaitForCursors(2);
  AddEvent("failed");
  notifier->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(2, milliseconds(5000)));
  for (int i = 0; i < 100 && QueryValue("SELECT count(*) FROM tandem.events WHERE event = "
                                        "'notify.failed'") != "1";
       ++i) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  notifier->Stop();
  setenv("TANDEM_TEST_SLACK_URL", "", 1);

  EXPECT_EQ(logs_.Count("could not connect to the webhook"), 2u);
  std::string everything;
  for (const std::string& line : logs_.Lines()) everything += line + "\n";
  everything += QueryValue(
      "SELECT string_agg(concat_ws(' ', version, event, actor, detail), "
      "E'\\n') FROM tandem.events");
  everything += QueryValue("SELECT string_agg(channel, ' ') FROM tandem.notify_cursors");
  EXPECT_NE(everything.find("notify.failed"), std::string::npos) << everything;
  for (const std::string& secret : {std::string("SECRET"), std::string("/hooks/"),
                                    "127.0.0.1:" + std::to_string(receiver.port()),
                                    "127.0.0.1:" + std::to_string(closed_port)}) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret << " in:\n" << everything;
  }
}

TEST_F(NotifierTest, AnUnsetUrlEnvIsLoggedOnceAndTheChannelWaits) {
  HttpReceiver receiver;
  setenv("TANDEM_TEST_WEBHOOK_URL", receiver.Url("/hooks/SECRET123").c_str(), 1);
  config::NotifyChannel channel;
  channel.kind = "webhook";
  channel.url_env = "TANDEM_TEST_WEBHOOK_URL";
  auto notifier = StartNotifier(Options({channel}));
  ASSERT_TRUE(notifier);
  WaitForCursors(1);
  long long before = AddEvent("succeeded");
  notifier->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(1, milliseconds(5000)));

  // Emptied (not unset: setenv replaces the value in place, safe beside a reader thread).
  setenv("TANDEM_TEST_WEBHOOK_URL", "", 1);
  std::this_thread::sleep_for(milliseconds(400));
  long long during1 = AddEvent("failed");
  notifier->Wake();
  long long during2 = AddEvent("paused");
  notifier->Wake();
  std::this_thread::sleep_for(milliseconds(800));
  EXPECT_EQ(receiver.Requests().size(), 1u);
  EXPECT_EQ(logs_.Count("environment variable TANDEM_TEST_WEBHOOK_URL is not set or empty"), 1u);

  setenv("TANDEM_TEST_WEBHOOK_URL", receiver.Url("/hooks/SECRET123").c_str(), 1);
  notifier->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(3, milliseconds(5000)));
  notifier->Stop();
  setenv("TANDEM_TEST_WEBHOOK_URL", "", 1);
  std::vector<long long> received;
  for (const auto& r : receiver.Requests()) received.push_back(EventIdOf(r));
  EXPECT_EQ(received, (std::vector<long long>{before, during1, during2}));
}

TEST_F(NotifierTest, StopReturnsPromptlyWhileAWebhookHangs) {
  HttpReceiver receiver;
  receiver.SetDefault(HttpReceiver::Reply{200, {}, "", false, /*hang=*/true});
  auto notifier = StartNotifier(Options({Channel("webhook", receiver.Url("/hooks/SECRET123"))}));
  ASSERT_TRUE(notifier);
  WaitForCursors(1);
  std::string cursor = QueryValue("SELECT last_event_id FROM tandem.notify_cursors");
  AddEvent("failed");
  notifier->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(1, milliseconds(5000)));
  auto started = Clock::now();
  notifier->Stop();
  EXPECT_LT(Clock::now() - started, milliseconds(2000));  // it waits for nothing but a poll
  // Not delivered, so not recorded as delivered: the next lock holder sends it.
  EXPECT_EQ(QueryValue("SELECT last_event_id FROM tandem.notify_cursors"), cursor);
  EXPECT_EQ(logs_.Count("notifier stopped"), 1u);
}

TEST_F(NotifierTest, WaitsForAnEarlierEventStillInItsTransaction) {
  HttpReceiver receiver;
  auto notifier = StartNotifier(Options({Channel("webhook", receiver.Url("/hooks/SECRET123"))}));
  ASSERT_TRUE(notifier);
  WaitForCursors(1);
  auto slow = Connect();
  ASSERT_TRUE(slow->Exec("BEGIN").ok());
  long long earlier = AddEvent("running", 1, slow.get());  // not committed yet
  long long later = AddEvent("failed", 2);
  notifier->Wake();
  std::this_thread::sleep_for(milliseconds(1200));
  EXPECT_EQ(receiver.Requests().size(), 0u) << "sent past an event that may still commit";
  ASSERT_TRUE(slow->Exec("COMMIT").ok());
  notifier->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(2, milliseconds(5000)));
  EXPECT_EQ(EventIdOf(receiver.Requests()[0]), earlier);
  EXPECT_EQ(EventIdOf(receiver.Requests()[1]), later);

  // A gap that can never fill (a rolled-back event) is crossed once no transaction is open.
  ASSERT_TRUE(slow->Exec("BEGIN").ok());
  AddEvent("running", 3, slow.get());
  ASSERT_TRUE(slow->Exec("ROLLBACK").ok());
  long long after_gap = AddEvent("succeeded", 4);
  notifier->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(3, milliseconds(3000)));
  EXPECT_EQ(EventIdOf(receiver.Requests()[2]), after_gap);
}

TEST_F(NotifierTest, FlushReturnsOnceEverythingIsSent) {
  HttpReceiver receiver;
  NotifierOptions options = Options({Channel("webhook", receiver.Url("/hooks/SECRET123"))});
  options.poll_interval = milliseconds(60'000);  // only Flush can make it look
  options.backoff_initial = milliseconds(2000);  // a failing try is not given up in this test
  auto notifier = StartNotifier(std::move(options));
  ASSERT_TRUE(notifier);
  WaitForCursors(1);
  long long first = AddEvent("running");
  long long second = AddEvent("succeeded");
  EXPECT_TRUE(notifier->Flush(milliseconds(5000)));
  auto requests = receiver.Requests();  // already there: no waiting
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(EventIdOf(requests[0]), first);
  EXPECT_EQ(EventIdOf(requests[1]), second);
  EXPECT_TRUE(notifier->Flush(milliseconds(5000)));  // nothing new: at once
  EXPECT_EQ(receiver.Requests().size(), 2u);

  // A webhook that keeps failing: Flush gives up at its timeout, not the backoff's.
  receiver.SetDefault(HttpReceiver::Reply{500, {}, "no", false, false});
  AddEvent("failed");
  auto started = Clock::now();
  EXPECT_FALSE(notifier->Flush(milliseconds(300)));
  EXPECT_GE(Clock::now() - started, milliseconds(300));
  EXPECT_LT(Clock::now() - started, milliseconds(2000));
}

TEST_F(NotifierTest, FlushOnAReplicaWithoutTheLockSaysSo) {
  HttpReceiver receiver;
  std::string url = receiver.Url("/hooks/SECRET123");
  auto sender = StartNotifier(Options({Channel("webhook", url)}));
  ASSERT_TRUE(sender);
  WaitForCursors(1);
  auto other = StartNotifier(Options({Channel("webhook", url)}));
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->Flush(milliseconds(5000)));
  EXPECT_TRUE(sender->Flush(milliseconds(5000)));
}

TEST_F(NotifierTest, WaitsForTheStateSchemaAndLogsTheErrorOnce) {
  HttpReceiver receiver;
  NotifierOptions options = Options({Channel("webhook", receiver.Url("/hooks/SECRET123"))});
  options.schema = "Late Schema";
  auto notifier = StartNotifier(std::move(options));
  ASSERT_TRUE(notifier);
  std::this_thread::sleep_for(milliseconds(1000));  // five polls, each failing the same way
  EXPECT_EQ(logs_.Count("error notifier: "), 1u);
  Status created = migrate::EnsureStateSchema(*connection_, "Late Schema");
  ASSERT_TRUE(created.ok()) << created.ToString();
  for (int i = 0;
       i < 200 && QueryValue("SELECT count(*) FROM \"Late Schema\".notify_cursors") != "1"; ++i) {
    std::this_thread::sleep_for(milliseconds(50));
  }
  auto id = connection_->Query(
      "INSERT INTO \"Late Schema\".events (event, actor, detail) "
      "VALUES ('job.failed', 'tester', '{\"job\": 1}') RETURNING id");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  notifier->Wake();
  ASSERT_TRUE(receiver.WaitForRequests(1, milliseconds(5000)));
  EXPECT_EQ(EventIdOf(receiver.Requests()[0]), id->GetInt(0, 0));
}

// kill -9 of the replica that is sending: its session ends, the lock goes with it, and another
// replica sends the event the dead one had in flight (a second time: at least once).
TEST_F(NotifierTest, AReplicaKilledMidSendIsTakenOverAndTheEventSentAgain) {
  HttpReceiver receiver;
  receiver.Script({HttpReceiver::Reply{200, {}, "", false, /*hang=*/true}});
  std::string url = receiver.Url("/hooks/SECRET123");
  NotifierOptions child_options = Options({Channel("webhook", url)});
  child_options.log = nullptr;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child only runs a notifier until it is killed: it never returns into the test
    // framework or runs exit handlers (which would stop the shared server).
    auto notifier = Notifier::Start(std::move(child_options));
    if (!notifier.ok()) _exit(1);
    while (true) pause();
  }
  WaitForCursors(1);  // created by the child, which holds the lock
  long long id = AddEvent("failed");
  ASSERT_TRUE(receiver.WaitForRequests(1, milliseconds(10000)));  // the child's try, hanging
  auto replica = StartNotifier(Options({Channel("webhook", url)}));
  ASSERT_TRUE(replica);
  std::this_thread::sleep_for(milliseconds(500));
  EXPECT_EQ(receiver.Requests().size(), 1u)
      << "a second replica sent while the first held the lock";

  ASSERT_EQ(kill(child, SIGKILL), 0);
  auto exit_code = WaitForExit(child);
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 128 + SIGKILL);
  ASSERT_TRUE(receiver.WaitForRequests(2, milliseconds(10000)));
  EXPECT_TRUE(replica->Flush(milliseconds(5000)));
  auto requests = receiver.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(EventIdOf(requests[0]), id);
  EXPECT_EQ(EventIdOf(requests[1]), id);
  EXPECT_EQ(QueryValue("SELECT last_event_id FROM tandem.notify_cursors"), std::to_string(id));
}

TEST(NotifierStartTest, RefusesBadChannelsWithoutQuotingTheUrl) {
  NotifierOptions options;
  config::NotifyChannel channel;
  channel.kind = "slack";
  channel.url = "ftp://example.com/SECRET123";
  options.channels = {channel};
  auto notifier = Notifier::Start(options);
  ASSERT_FALSE(notifier.ok());
  EXPECT_EQ(notifier.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(notifier.status().message().find("channel 1 (slack)"), std::string::npos);
  EXPECT_EQ(notifier.status().ToString().find("SECRET123"), std::string::npos);

  channel.kind = "email";
  options.channels = {channel};
  EXPECT_FALSE(Notifier::Start(options).ok());

  options.channels.clear();  // nothing configured: a notifier that does nothing
  auto idle = Notifier::Start(options);
  ASSERT_TRUE(idle.ok());
  (*idle)->Wake();
  (*idle)->Stop();
}

}  // namespace
}  // namespace tandem::notify
