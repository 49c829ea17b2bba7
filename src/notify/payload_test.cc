#include "notify/payload.h"

#include <gtest/gtest.h>

namespace tandem::notify {
namespace {

using nlohmann::json;

Event FailedEvent() {
  Event event;
  event.id = 42;
  event.at = "2026-11-30T10:00:00.123Z";
  event.version = "20261130093000";
  event.event = "job.failed";
  event.actor = "web-1 pid 7 tandem 0.1.0";
  event.detail = json::parse(R"({
    "job": 7, "kind": "post-deploy", "name": "drop_legacy_column", "from": "running",
    "to": "failed", "reason": "the statement failed", "attempt": 2, "duration_ms": 1234,
    "lock_timeouts": 3, "statements_done": 2, "statements_total": 5,
    "error": {"sqlstate": "42P01", "message": "relation \"users_old\" does not exist",
              "statement": "ALTER TABLE users_old DROP COLUMN legacy",
              "file": "db/migrations/20261130093000_drop_legacy_column.sql",
              "line": 3, "column": 1}})");
  return event;
}

Event WithState(const std::string& state) {
  Event event;
  event.id = 5;
  event.version = "1";
  event.event = "job." + state;
  event.detail = json{{"job", 9}, {"name", "x"}, {"to", state}};
  return event;
}

TEST(NextCommandsTest, WhatAPersonCanRunForEachState) {
  EXPECT_EQ(NextCommands(WithState("failed")),
            (std::vector<std::string>{"tandem jobs retry 9", "tandem jobs cancel 9"}));
  EXPECT_EQ(NextCommands(WithState("awaiting-approval")),
            (std::vector<std::string>{"tandem jobs approve 9"}));
  EXPECT_EQ(NextCommands(WithState("paused")), (std::vector<std::string>{"tandem jobs resume 9"}));
  EXPECT_TRUE(NextCommands(WithState("succeeded")).empty());
  EXPECT_TRUE(NextCommands(WithState("retrying")).empty());
  EXPECT_EQ(StateOf(WithState("awaiting-approval")), "awaiting-approval");
}

TEST(SlackMessageTest, FailedJobSaysWhereWhatAndWhatNext) {
  json message = SlackMessage(FailedEvent(), "shop_production");
  EXPECT_EQ(message["text"], ":x: shop_production: 20261130093000 drop_legacy_column failed");
  ASSERT_EQ(message["blocks"].size(), 1u);
  EXPECT_EQ(message["blocks"][0]["type"], "section");
  EXPECT_EQ(message["blocks"][0]["text"]["type"], "mrkdwn");
  std::string body = message["blocks"][0]["text"]["text"];
  EXPECT_EQ(body,
            "*shop_production*: `20261130093000` drop_legacy_column *failed* (job 7, post-deploy)\n"
            "Duration: 1.2s · Attempt: 2 · Statements: 2/5 · Lock timeouts: 3\n"
            "Error: `SQLSTATE 42P01` relation \"users_old\" does not exist at "
            "`db/migrations/20261130093000_drop_legacy_column.sql:3:1`\n"
            "```ALTER TABLE users_old DROP COLUMN legacy```\n"
            "Reason: the statement failed\n"
            "By: web-1 pid 7 tandem 0.1.0\n"
            "Next: `tandem jobs retry 7` or `tandem jobs cancel 7`");
}

TEST(SlackMessageTest, RetryingNamesTheNextAttempt) {
  Event event = WithState("retrying");
  event.detail["next_attempt_at"] = "2026-11-30T10:05:00Z";
  std::string body = SlackMessage(event, "db")["blocks"][0]["text"]["text"];
  EXPECT_NE(body.find("Next attempt at 2026-11-30T10:05:00Z"), std::string::npos) << body;
  EXPECT_EQ(body.find("Next:"), std::string::npos);
}

TEST(SlackMessageTest, EscapesControlCharactersAndShortensLongText) {
  Event event = FailedEvent();
  event.detail["name"] = "<!channel> & <https://evil|click>";
  event.detail["error"]["message"] = std::string(2000, 'm') + "é";
  event.detail["error"]["statement"] = "SELECT '```' || `x`";
  json message = SlackMessage(event, "db");
  std::string text = message["text"];
  std::string body = message["blocks"][0]["text"]["text"];
  for (const std::string& s : {text, body}) {
    EXPECT_EQ(s.find("<!channel>"), std::string::npos);
    EXPECT_NE(s.find("&lt;!channel&gt; &amp; &lt;https://evil|click&gt;"), std::string::npos);
  }
  EXPECT_NE(body.find(std::string(500, 'm') + "…"), std::string::npos);
  EXPECT_EQ(body.find(std::string(501, 'm')), std::string::npos);
  EXPECT_NE(body.find("```SELECT ''''' || `x````"), std::string::npos) << body;
  EXPECT_LT(body.size(), 3000u);
}

TEST(WebhookDocumentTest, FieldByField) {
  json document = WebhookDocument(FailedEvent(), "shop_production");
  json expected = json::parse(R"({
    "schema_version": 1, "type": "job.failed", "event_id": 42,
    "at": "2026-11-30T10:00:00.123Z", "target": "shop_production",
    "job": {"id": 7, "kind": "post-deploy", "version": "20261130093000",
            "name": "drop_legacy_column", "from": "running", "state": "failed", "attempt": 2,
            "duration_ms": 1234, "lock_timeouts": 3, "statements_done": 2,
            "statements_total": 5, "next_attempt_at": null},
    "actor": "web-1 pid 7 tandem 0.1.0", "reason": "the statement failed",
    "error": {"sqlstate": "42P01", "message": "relation \"users_old\" does not exist",
              "statement": "ALTER TABLE users_old DROP COLUMN legacy",
              "file": "db/migrations/20261130093000_drop_legacy_column.sql",
              "line": 3, "column": 1},
    "next": ["tandem jobs retry 7", "tandem jobs cancel 7"]})");
  EXPECT_EQ(document, expected) << document.dump(2);
}

TEST(WebhookDocumentTest, MissingFieldsAreNullNotAbsent) {
  Event event;
  event.id = 3;
  event.event = "job.succeeded";
  event.detail = json::parse(R"({"job": "not a number", "error": 5})");
  json document = WebhookDocument(event, "db");
  EXPECT_TRUE(document["job"]["id"].is_null());
  EXPECT_TRUE(document["job"]["attempt"].is_null());
  EXPECT_TRUE(document["error"].is_null());
  EXPECT_TRUE(document["next"].empty());
  event.detail = json::array();  // not even an object: still a document, never a throw
  EXPECT_EQ(WebhookDocument(event, "db")["type"], "job.succeeded");
  EXPECT_EQ(SlackMessage(event, "db")["text"], ":white_check_mark: db: succeeded");
}

TEST(PayloadForTest, ReplacesInvalidUtf8InsteadOfFailing) {
  Event event = FailedEvent();
  event.detail["error"]["message"] = std::string("bad \xff byte");
  std::string slack = PayloadFor("slack", event, "db");
  std::string webhook = PayloadFor("webhook", event, "db");
  EXPECT_TRUE(json::accept(slack));
  EXPECT_TRUE(json::accept(webhook));
  EXPECT_EQ(json::parse(webhook)["schema_version"], 1);
}

}  // namespace
}  // namespace tandem::notify
