// What a notification says: a `job.<state>` event of tandem.events turned into Slack's
// incoming-webhook message or tandem's own webhook document (docs/notifications.md describes
// it field by field). Pure functions of the event and the target label, so they are tested
// without a server.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tandem::notify {

// The webhook document's version; raised only for changes a receiver must know about.
inline constexpr int kWebhookSchemaVersion = 1;

// One row of tandem.events. `detail` is the object src/jobs/transitions.h documents.
struct Event {
  long long id = 0;
  std::string at;       // ISO 8601, UTC
  std::string version;  // the migration version ("" when NULL)
  std::string event;    // "job.failed", ...
  std::string actor;
  nlohmann::json detail = nlohmann::json::object();
};

// "failed" for "job.failed".
std::string StateOf(const Event& event);

// What a person can run next: failed -> retry and cancel, awaiting-approval -> approve,
// paused -> resume; nothing for the other states.
std::vector<std::string> NextCommands(const Event& event);

// Slack's incoming-webhook message: `text` (the notification's one line, also what Slack shows
// where blocks are not rendered) and one section block with the details. Text from the event
// (names, error messages, statements) is escaped for Slack's mrkdwn and shortened.
nlohmann::json SlackMessage(const Event& event, std::string_view target);

// tandem's webhook document, schema_version 1.
nlohmann::json WebhookDocument(const Event& event, std::string_view target);

// The request body for a channel kind ("slack" or "webhook"), as JSON text. Invalid UTF-8 in
// the event is replaced, never a reason not to send.
std::string PayloadFor(std::string_view kind, const Event& event, std::string_view target);

}  // namespace tandem::notify
