// Notification payloads (see payload.h).
#include "notify/payload.h"

#include "base/duration.h"
#include "base/printable.h"
#include "jobs/job.h"

namespace tandem::notify {

namespace {

using nlohmann::json;

std::string JobId(const Event& event) {
  if (!event.detail.is_object()) return "";
  json job = event.detail.value("job", json());
  if (job.is_number_integer()) return std::to_string(job.get<long long>());
  if (job.is_string()) return job.get<std::string>();
  return "";
}

std::string Text(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

long long Int(const json& object, const char* key) {
  if (!object.is_object()) return 0;
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<long long>() : 0;
}

// At most `limit` bytes, cut at a character boundary, with an ellipsis when cut: a long
// statement or message must not push the rest of the message past Slack's block limit
// (3,000 characters per text).
std::string Shorten(std::string_view text, size_t limit) {
  if (text.size() <= limit) return std::string(text);
  size_t end = 0;
  while (end < limit) {
    size_t length = Utf8CharLength(text, end);
    if (length == 0) length = 1;
    if (end + length > limit) break;
    end += length;
  }
  return std::string(text.substr(0, end)) + "…";
}

// Slack's mrkdwn treats &, < and > as control characters (links, mentions): escaped, a
// migration name or error message can never ping @channel or hide a link.
std::string SlackEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out += c;
    }
  }
  return out;
}

// Inline code: a backquote inside would end it early.
std::string Code(std::string_view text) {
  std::string inner = SlackEscape(text);
  for (char& c : inner) {
    if (c == '`') c = '\'';
  }
  return "`" + inner + "`";
}

std::string Emoji(const std::string& state) {
  if (state == "failed") return ":x:";
  if (state == "succeeded") return ":white_check_mark:";
  if (state == "awaiting-approval") return ":raised_hand:";
  if (state == "paused") return ":double_vertical_bar:";
  if (state == "retrying") return ":repeat:";
  if (state == "running") return ":arrow_forward:";
  if (state == "cancelled") return ":no_entry_sign:";
  return ":information_source:";
}

// "db/migrations/1_x.sql:3:1", leaving out what is unknown.
std::string Where(const json& error) {
  std::string file = Text(error, "file");
  if (file.empty()) return "";
  long long line = Int(error, "line");
  long long column = Int(error, "column");
  if (line > 0) file += ":" + std::to_string(line);
  if (line > 0 && column > 0) file += ":" + std::to_string(column);
  return file;
}

json ErrorObject(const json& detail) {
  json error = detail.value("error", json());
  if (!error.is_object()) return nullptr;
  return json{{"sqlstate", Text(error, "sqlstate")},
              {"message", Text(error, "message")},
              {"statement", Text(error, "statement")},
              {"file", Text(error, "file")},
              {"line", Int(error, "line")},
              {"column", Int(error, "column")}};
}

json IntOrNull(const json& detail, const char* key) {
  auto it = detail.find(key);
  if (it == detail.end() || !it->is_number()) return nullptr;
  return *it;
}

}  // namespace

std::string StateOf(const Event& event) {
  std::string_view name = event.event;
  if (name.rfind("job.", 0) == 0) name.remove_prefix(4);
  return std::string(name);
}

std::vector<std::string> NextCommands(const Event& event) {
  std::string id = JobId(event);
  if (id.empty()) return {};
  auto status = jobs::ParseStatus(StateOf(event));
  if (!status) return {};
  return jobs::PersonNextCommands(*status, id);
}

json SlackMessage(const Event& event, std::string_view target) {
  const json& d = event.detail.is_object() ? event.detail : json::object();
  std::string state = StateOf(event);
  std::string name = Text(d, "name");
  std::string migration = event.version;
  if (!name.empty()) migration += (migration.empty() ? "" : " ") + name;
  std::string id = JobId(event);

  std::string text = Emoji(state) + " " + SlackEscape(target) + ": " +
                     (migration.empty() ? "" : SlackEscape(Shorten(migration, 200)) + " ") + state;

  std::string body = "*" + SlackEscape(target) + "*: " + Code(Shorten(event.version, 100)) +
                     (name.empty() ? "" : " " + SlackEscape(Shorten(name, 200))) + " *" + state +
                     "*";
  std::string kind = Text(d, "kind");
  if (!id.empty()) body += " (job " + id + (kind.empty() ? "" : ", " + kind) + ")";
  std::vector<std::string> facts;
  if (auto ms = IntOrNull(d, "duration_ms"); !ms.is_null()) {
    facts.push_back("Duration: " + FormatDuration(Duration(ms.get<long long>())));
  }
  if (auto attempt = IntOrNull(d, "attempt"); !attempt.is_null()) {
    facts.push_back("Attempt: " + attempt.dump());
  }
  if (auto total = IntOrNull(d, "statements_total"); !total.is_null() && total.get<long long>()) {
    facts.push_back("Statements: " + IntOrNull(d, "statements_done").dump() + "/" + total.dump());
  }
  if (auto locks = IntOrNull(d, "lock_timeouts"); !locks.is_null() && locks.get<long long>()) {
    facts.push_back("Lock timeouts: " + locks.dump());
  }
  if (!facts.empty()) {
    body += "\n";
    for (size_t i = 0; i < facts.size(); ++i) body += (i ? " · " : "") + facts[i];
  }
  json error = ErrorObject(d);
  if (!error.is_null()) {
    body += "\nError:";
    std::string sqlstate = error["sqlstate"];
    if (!sqlstate.empty()) body += " " + Code("SQLSTATE " + sqlstate);
    body += " " + SlackEscape(Shorten(error["message"].get<std::string>(), 500));
    std::string where = Where(error);
    if (!where.empty()) body += " at " + Code(where);
    std::string statement = error["statement"];
    if (!statement.empty()) {
      std::string shown = SlackEscape(Shorten(statement, 600));
      for (size_t at = shown.find("```"); at != std::string::npos; at = shown.find("```")) {
        shown.replace(at, 3, "'''");
      }
      body += "\n```" + shown + "```";
    }
  }
  if (std::string reason = Text(d, "reason"); !reason.empty()) {
    body += "\nReason: " + SlackEscape(Shorten(reason, 300));
  }
  if (!event.actor.empty()) body += "\nBy: " + SlackEscape(Shorten(event.actor, 200));
  if (std::string next_at = Text(d, "next_attempt_at"); !next_at.empty()) {
    body += "\nNext attempt at " + SlackEscape(next_at);
  }
  std::vector<std::string> next = NextCommands(event);
  if (!next.empty()) {
    body += "\nNext: ";
    for (size_t i = 0; i < next.size(); ++i) body += (i ? " or " : "") + Code(next[i]);
  }
  return json{
      {"text", text},
      {"blocks",
       json::array({json{{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", body}}}}})}};
}

json WebhookDocument(const Event& event, std::string_view target) {
  const json& d = event.detail.is_object() ? event.detail : json::object();
  json job_id = d.value("job", json());
  json job = {
      {"id", job_id.is_number_integer() ? job_id : json(nullptr)},
      {"kind", Text(d, "kind")},
      {"version", event.version},
      {"name", Text(d, "name")},
      {"from", Text(d, "from")},
      {"state", StateOf(event)},
      {"attempt", IntOrNull(d, "attempt")},
      {"duration_ms", IntOrNull(d, "duration_ms")},
      {"lock_timeouts", IntOrNull(d, "lock_timeouts")},
      {"statements_done", IntOrNull(d, "statements_done")},
      {"statements_total", IntOrNull(d, "statements_total")},
      {"next_attempt_at",
       Text(d, "next_attempt_at").empty() ? json(nullptr) : json(Text(d, "next_attempt_at"))},
  };
  return json{{"schema_version", kWebhookSchemaVersion},
              {"type", event.event},
              {"event_id", event.id},
              {"at", event.at},
              {"target", std::string(target)},
              {"job", job},
              {"actor", event.actor},
              {"reason", Text(d, "reason")},
              {"error", ErrorObject(d)},
              {"next", NextCommands(event)}};
}

std::string PayloadFor(std::string_view kind, const Event& event, std::string_view target) {
  json payload = kind == "slack" ? SlackMessage(event, target) : WebhookDocument(event, target);
  return payload.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace tandem::notify
