// The detail pages: a target, a migration, a job, and the events (audit log). The target page
// comes from the store's snapshot; a job's SQL, a migration's job and the events are read live
// on a short-lived connection.
#include <algorithm>
#include <mutex>

#include "base/parallel_for.h"

#include "background/progress.h"
#include "dashboard/events.h"
#include "dashboard/html.h"
#include "dashboard/routes.h"

namespace tandem::dashboard::internal {
namespace {

std::string Field(const std::string& name, const std::string& value_html) {
  return "<dt>" + name + "</dt><dd>" + value_html + "</dd>";
}

// The SQL, one numbered line each (file lines, from `first_line`), with the failing statement
// and the failing line marked.
std::string SqlBlock(const std::string& sql, int first_line, const std::string& statement,
                     int error_line) {
  if (sql.empty()) return "<p class=\"note\">The SQL is not recorded in the database.</p>";
  int statement_first = 0, statement_last = -1;
  if (!statement.empty()) {
    size_t at = sql.find(statement);
    if (at != std::string::npos) {
      statement_first =
          first_line + static_cast<int>(std::count(sql.begin(), sql.begin() + at, '\n'));
      statement_last =
          statement_first + static_cast<int>(std::count(statement.begin(), statement.end(), '\n'));
    }
  }
  if (error_line <= 0 && statement_last >= statement_first) error_line = statement_first;
  // Each line is a block (app.css), so no newline between them: inside <pre> it would show as
  // an empty line after every line.
  std::string out = "<pre class=\"sql\"><code>";
  int line = first_line;
  size_t pos = 0;
  while (pos <= sql.size()) {
    size_t end = sql.find('\n', pos);
    if (end == std::string::npos) end = sql.size();
    std::string css = "line";
    if (line >= statement_first && line <= statement_last) css += " stmt-err";
    if (line == error_line) css += " line-err";
    out += "<span class=\"" + css + "\" data-line=\"" + std::to_string(line) +
           "\"><span class=\"ln\">" + std::to_string(line) + "</span>" +
           Escape(std::string_view(sql).substr(pos, end - pos)) + "</span>";
    ++line;
    if (end == sql.size()) break;
    pos = end + 1;
  }
  return out + "</code></pre>";
}

std::string ErrorBlock(const std::string& sqlstate, const std::string& message,
                       const std::string& file, int line, int column, const std::string& detail) {
  if (sqlstate.empty() && message.empty()) return "";
  std::string out = "<section class=\"failure\"><h2>Error</h2><p><code class=\"sqlstate\">" +
                    Escape(sqlstate) + "</code> " + Escape(message) + "</p>";
  if (!file.empty() || line > 0) {
    out += "<p>at " + Escape(file) + (line > 0 ? ":" + std::to_string(line) : "") +
           (column > 0 ? ":" + std::to_string(column) : "") + "</p>";
  }
  if (!detail.empty()) {
    // The worker records here the sessions that blocked a statement that timed out on its lock.
    out += "<h3>Blockers and detail</h3><pre class=\"detail\">" + Escape(detail) + "</pre>";
  }
  return out + "</section>";
}

std::string EventsTable(const std::vector<EventRow>& rows, const std::string* target) {
  if (rows.empty()) return "<p class=\"empty\">No events.</p>";
  std::string out =
      "<div class=\"scroll\"><table class=\"events\"><thead><tr><th>#</th><th>At</th>" +
      std::string(target ? "<th>Target</th>" : "") +
      "<th>Event</th><th>Version</th><th>Actor</th><th>Detail</th></tr></thead><tbody>";
  for (const auto& row : rows) {
    auto detail = nlohmann::json::parse(row.detail, nullptr, false);
    std::string summary;
    if (detail.is_object()) {
      for (const char* key : {"reason", "attempt", "lock_timeouts", "duration_ms"}) {
        if (detail.contains(key) && !detail[key].is_null()) {
          summary +=
              std::string(key) + ": " +
              (detail[key].is_string() ? detail[key].get<std::string>() : detail[key].dump()) +
              "; ";
        }
      }
      if (detail.contains("error") && detail["error"].is_object()) {
        const auto& e = detail["error"];
        summary +=
            "error " + e.value("sqlstate", std::string()) + " " + e.value("message", std::string());
      }
    }
    out += "<tr data-event-id=\"" + std::to_string(row.id) + "\"><td>" + std::to_string(row.id) +
           "</td><td>" + Escape(ShortTime(row.at)) + "</td>";
    if (target) out += "<td>" + Escape(*target) + "</td>";
    out += "<td>" + Escape(row.event) + "</td><td>" + Escape(row.version) + "</td><td>" +
           Escape(row.actor) + "</td><td>" + Escape(summary) + "</td></tr>";
  }
  return out + "</tbody></table></div>";
}

std::string Dur(const std::optional<long long>& ms) { return ms ? Escape(ShortDuration(*ms)) : ""; }

std::string BackgroundBlock(const jobs::Job& job) {
  background::Progress p = background::ParseProgress(job.progress);
  std::string out = "<section class=\"background\"><h2>Progress</h2>";
  int percent = ProgressPercent(job);
  out += "<p><progress max=\"100\" value=\"" + std::to_string(std::max(0, percent)) +
         "\" data-field=\"bar\">" + std::to_string(std::max(0, percent)) +
         "%</progress> <span data-field=\"progress\">" + Escape(ProgressText(job)) +
         "</span></p><dl class=\"facts\">";
  out += Field("Rows", Thousands(p.rows_done) + " of ~" + Thousands(p.estimated_total));
  out += Field("Rate", Thousands(static_cast<long long>(p.rate)) + " rows/s");
  auto eta = background::EtaSeconds(p);
  out += Field("ETA", eta ? Escape(ShortDuration(*eta * 1000)) : "unknown");
  out += Field("Batch size", Thousands(p.batch_size));
  out += Field("Batches",
               Thousands(p.batches) + (p.splits ? " (" + Thousands(p.splits) + " split)" : ""));
  out += Field("Last batch", Escape(ShortDuration(p.last_batch_ms)));
  out += Field("Throttle", p.throttled_reason.empty()
                               ? "not throttled"
                               : "<strong>throttled</strong>: " + Escape(p.throttled_reason) + " " +
                                     Escape(p.throttled_value));
  out += Field("Time throttled", Escape(ShortDuration(p.throttled_ms)));
  out += "</dl>" + ProgressChart(job.progress) + "</section>";
  return out;
}

}  // namespace

server::Response TargetPage(Env& env, const server::Request& request, size_t index) {
  const Source& source = env.store.source(index);
  auto snapshot = env.store.snapshot(index);
  const Snapshot& s = *snapshot;
  std::string href = TargetHref(source.name);
  std::string body =
      "<h1>" + Escape(source.name) + " " + StatusBadge(s.state) + "</h1><dl class=\"facts\">";
  body += Field("Database", "<code>" + Escape(source.redacted) + "</code>");
  if (!source.groups.empty()) {
    std::string groups;
    for (const auto& g : source.groups) groups += "<span class=\"group\">" + Escape(g) + "</span> ";
    body += Field("Groups", groups);
  }
  body += Field("Read at", Escape(ShortTime(s.read_at)) +
                               (env.store.listened(index) ? " (live)" : " (polled)"));
  if (!s.error.ok())
    body += Field("Error", "<span class=\"error\">" + Escape(s.error.message()) + "</span>");
  body += "</dl><h2>Migrations</h2>";
  if (s.migrations.empty()) {
    body += "<p class=\"empty\">No migrations recorded.</p>";
  } else {
    body +=
        "<div class=\"scroll\"><table class=\"migrations\"><thead><tr><th>Version</th><th>Name</th>"
        "<th>Phase</th><th>Status</th><th>Attempts</th><th>Statements</th><th>Started</th>"
        "<th>Duration</th></tr></thead><tbody>";
    for (auto it = s.migrations.rbegin(); it != s.migrations.rend(); ++it) {
      const auto& row = *it;
      body += "<tr data-version=\"" + Escape(row.version) + "\" class=\"r-" + Escape(row.status) +
              "\"><td><a href=\"" + Escape(href + "/migrations/" + UrlEncode(row.version)) + "\">" +
              Escape(row.version) + "</a></td><td>" + Escape(row.name) + "</td><td>" +
              Escape(row.phase) + "</td><td data-field=\"status\">" + Escape(row.status) +
              "</td><td>" + std::to_string(row.attempts) + "</td><td>" +
              std::to_string(row.statements_done) + "/" + std::to_string(row.statements_total) +
              "</td><td>" + Escape(ShortTime(row.started_at)) + "</td><td>" + Dur(row.duration_ms) +
              "</td></tr>";
    }
    body += "</tbody></table></div>";
  }
  body += "<h2>Jobs</h2>";
  std::vector<JobRow> rows;
  for (auto it = s.jobs.rbegin(); it != s.jobs.rend(); ++it) rows.push_back({&source.name, &*it});
  body += JobsTable(rows, false);
  body += "<h2>Recent events</h2>";
  if (auto connection = env.store.Connect(index); connection.ok()) {
    EventFilter filter;
    filter.limit = 20;
    auto events = ReadEvents(**connection, env.store.options().schema, filter);
    body += events.ok() ? EventsTable(*events, nullptr)
                        : "<p class=\"error\">could not read the events</p>";
    body += "<p><a href=\"/events?target=" + Escape(UrlEncode(source.name)) +
            "\">All events of this target</a></p>";
  } else {
    body += "<p class=\"error\">unreachable: the events cannot be read now</p>";
  }
  return Html(200, PageFor(env, request, source.name, "overview", body));
}

server::Response MigrationPage(Env& env, const server::Request& request, size_t index,
                               const std::string& version) {
  const Source& source = env.store.source(index);
  auto snapshot = env.store.snapshot(index);
  const migrate::HistoryRow* row = nullptr;
  for (const auto& r : snapshot->migrations) {
    if (r.version == version) row = &r;
  }
  const jobs::Job* listed = nullptr;
  for (const auto& j : snapshot->jobs) {
    if (j.version == version) listed = &j;
  }
  const migrate::Migration* file = env.files ? env.files->Find(version) : nullptr;
  if (row == nullptr && listed == nullptr && file == nullptr) {
    return NotFoundPage(env, request, "no such migration on this target");
  }
  std::string href = TargetHref(source.name);
  std::string name = row ? row->name : listed ? listed->name : file->name;
  std::string status = row ? row->status : "pending";
  std::string body = "<p class=\"crumbs\"><a href=\"" + Escape(href) + "\">" + Escape(source.name) +
                     "</a></p><h1>" + Escape(version) + " " + Escape(name) + " " +
                     StatusBadge(status) + "</h1><dl class=\"facts\">";
  if (row) {
    body += Field("Phase", Escape(row->phase));
    body +=
        Field("Status", "<span data-field=\"migration-status\">" + Escape(row->status) + "</span>");
    body += Field("Attempts", std::to_string(row->attempts));
    body += Field("Statements", std::to_string(row->statements_done) + " of " +
                                    std::to_string(row->statements_total));
    body += Field("Started", Escape(ShortTime(row->started_at)));
    body += Field("Finished", Escape(ShortTime(row->finished_at)));
    body += Field("Duration", Dur(row->duration_ms));
    body += Field("Applied by", Escape(row->applied_by));
    if (!row->adopted_from.empty()) body += Field("Adopted from", Escape(row->adopted_from));
  } else {
    body += Field("Status", "not recorded in this database yet");
  }
  if (listed) {
    body += Field("Job", "<a href=\"" + Escape(href + "/jobs/" + std::to_string(listed->id)) +
                             "\">#" + std::to_string(listed->id) + "</a> " +
                             StatusBadge(std::string(jobs::StatusName(listed->status))));
  }
  body += "</dl>";
  if (row) {
    body += ErrorBlock(row->error_sqlstate, row->error_message, row->error_file, row->error_line,
                       row->error_column, "");
  }
  // The SQL: the job's recorded copy (what the worker runs), else the project's file.
  std::string sql;
  int first_line = 1;
  auto connection = env.store.Connect(index);
  if (listed && connection.ok()) {
    auto job = jobs::FindJob(**connection, env.store.options().schema, listed->id, true);
    if (job.ok() && job->has_value()) {
      sql = (*job)->sql;
      first_line = (*job)->sql_line;
    }
  }
  if (sql.empty() && file != nullptr) {
    sql = file->up.text;
    first_line = file->up.text_line;
  }
  body += "<h2>SQL</h2>" +
          SqlBlock(sql, first_line, row ? row->error_statement : "", row ? row->error_line : 0);
  body += "<h2>Events</h2>";
  if (connection.ok()) {
    EventFilter filter;
    filter.version = version;
    auto events = ReadEvents(**connection, env.store.options().schema, filter);
    body += events.ok() ? EventsTable(*events, nullptr)
                        : "<p class=\"error\">could not read the events</p>";
  } else {
    body += "<p class=\"error\">unreachable: the events cannot be read now</p>";
  }
  return Html(200, PageFor(env, request, version + " " + name, "overview", body));
}

server::Response JobPage(Env& env, const server::Request& request, size_t index, long long id) {
  const Source& source = env.store.source(index);
  auto connection = env.store.Connect(index);
  if (!connection.ok()) {
    return Html(503, PageFor(env, request, "Unreachable", "jobs",
                             "<h1>Unreachable</h1><p class=\"error\">" +
                                 Escape(connection.status().message()) + "</p>"));
  }
  auto found = jobs::FindJob(**connection, env.store.options().schema, id, true);
  if (!found.ok()) {
    return Html(503, PageFor(env, request, "Error", "jobs",
                             "<h1>Error</h1><p class=\"error\">could not read the job</p>"));
  }
  if (!found->has_value()) return NotFoundPage(env, request, "no such job on this target");
  const jobs::Job& job = **found;
  std::string sid = std::to_string(job.id);
  std::string status(jobs::StatusName(job.status));
  std::string href = TargetHref(source.name);
  std::string body = "<p class=\"crumbs\"><a href=\"" + Escape(href) + "\">" + Escape(source.name) +
                     "</a> › <a href=\"" + Escape(href + "/migrations/" + UrlEncode(job.version)) +
                     "\">" + Escape(job.version) + "</a></p><h1>Job #" + sid + " " +
                     Escape(job.version) + " " + Escape(job.name) + "</h1>";
  body += "<dl class=\"facts\" data-job-id=\"" + sid + "\" data-target=\"" + Escape(source.name) +
          "\">";
  body += Field("Status",
                "<span data-field=\"status\" class=\"status s-" + status + "\">" + Escape(status) +
                    "</span>" +
                    (job.requested.empty()
                         ? ""
                         : " <span class=\"note\">" + Escape(job.requested) + " requested</span>"));
  body += Field("Kind", Escape(job.kind));
  body += Field("Approved", job.approved ? "yes" : "no");
  body += Field("Attempts",
                "<span data-field=\"attempts\">" + std::to_string(job.attempts) + "</span>");
  if (!job.worker.empty()) body += Field("Worker", Escape(job.worker));
  body +=
      Field("Statements", "<span data-field=\"statements\">" + std::to_string(job.statements_done) +
                              " of " + std::to_string(job.statements_total) + "</span>");
  body += Field("Queued", Escape(ShortTime(job.queued_at)));
  body += Field("Started", Escape(ShortTime(job.started_at)));
  body += Field("Finished", Escape(ShortTime(job.finished_at)));
  body += Field("Duration", Dur(job.duration_ms));
  if (!job.run_after.empty()) body += Field("Next attempt", Escape(ShortTime(job.run_after)));
  if (!job.path.empty()) body += Field("File", "<code>" + Escape(job.path) + "</code>");
  body += "</dl>";

  // The actions: every button is rendered, those the state does not allow hidden; the script
  // shows and hides them as the state changes (data-when lists the states that allow each).
  std::vector<std::string> allowed = AllowedActions(job);
  body += "<div class=\"actions\">";
  if (env.auth.read_only()) {
    body += "<p class=\"note\">Read-only: no token is configured.</p>";
  } else if (!env.auth.HasSession(request)) {
    body += "<p class=\"note\"><a href=\"/login\">Log in</a> to act on this job.</p>";
  }
  for (const char* action : {"pause", "resume", "retry", "cancel", "approve"}) {
    bool shown = std::find(allowed.begin(), allowed.end(), action) != allowed.end();
    std::string label(action);
    label[0] = static_cast<char>(label[0] - 'a' + 'A');
    body += "<form method=\"post\" action=\"/api/jobs/" + sid + "/" + action +
            "?target=" + Escape(UrlEncode(source.name)) + "\" class=\"action\"" +
            (shown ? "" : " hidden") + "><button type=\"submit\" data-action=\"" + action +
            "\" data-when=\"" + ActionStatuses(action) + "\"" +
            (env.auth.read_only() ? " disabled" : "") + ">" + label + "</button></form>";
  }
  body += "</div>";
  if (job.error) {
    body += ErrorBlock(job.error->sqlstate, job.error->message, job.error->file, job.error->line,
                       job.error->column, job.error->detail);
  }
  if (job.kind == "background") body += BackgroundBlock(job);
  body += "<h2>SQL</h2>" + SqlBlock(job.sql, job.sql_line, job.error ? job.error->statement : "",
                                    job.error ? job.error->line : 0);
  body += "<h2>Attempts and events</h2>";
  EventFilter filter;
  filter.job = job.id;
  filter.limit = 100;
  auto events = ReadEvents(**connection, env.store.options().schema, filter);
  body += events.ok() ? EventsTable(*events, nullptr)
                      : "<p class=\"error\">could not read the events</p>";
  return Html(200, PageFor(env, request, "Job #" + sid, "jobs", body));
}

server::Response EventsPage(Env& env, const server::Request& request) {
  Query query = ParseQuery(request.query);
  EventFilter filter;
  filter.version = query["version"];
  filter.event = query["event"];
  if (!query["before"].empty()) {
    try {
      filter.before = std::stoll(query["before"]);
    } catch (const std::exception&) {
    }
  }
  std::optional<size_t> only;
  if (!query["target"].empty()) {
    only = env.store.Find(query["target"]);
    if (!only) return NotFoundPage(env, request, "no such target");
  } else if (env.store.size() == 1) {
    only = 0;
  }
  std::string body = "<h1>Events</h1><form method=\"get\" action=\"/events\" class=\"filters\">";
  if (env.store.size() > 1) {
    body += "<label>Target <select name=\"target\"><option value=\"\">all</option>";
    for (size_t i = 0; i < env.store.size(); ++i) {
      const std::string& name = env.store.source(i).name;
      body += "<option value=\"" + Escape(name) + "\"" + (only == i ? " selected" : "") + ">" +
              Escape(name) + "</option>";
    }
    body += "</select></label> ";
  }
  body += "<label>Version <input name=\"version\" value=\"" + Escape(filter.version) +
          "\" size=\"14\"></label> <label>Event <input name=\"event\" value=\"" +
          Escape(filter.event) +
          "\" size=\"12\" placeholder=\"job.\"></label> <button type=\"submit\">Filter</button>"
          "</form>";
  std::string more;
  if (only) {
    auto connection = env.store.Connect(*only);
    if (!connection.ok()) {
      body += "<p class=\"error\">" + Escape(connection.status().message()) + "</p>";
    } else {
      auto events = ReadEvents(**connection, env.store.options().schema, filter);
      if (!events.ok()) {
        body += "<p class=\"error\">could not read the events</p>";
      } else {
        body +=
            EventsTable(*events, env.store.size() > 1 ? &env.store.source(*only).name : nullptr);
        if (static_cast<int>(events->size()) == filter.limit) {
          more = "/events?target=" + UrlEncode(env.store.source(*only).name) +
                 "&version=" + UrlEncode(filter.version) + "&event=" + UrlEncode(filter.event) +
                 "&before=" + std::to_string(events->back().id);
        }
      }
    }
  } else {
    // The whole fleet: the newest events of each target, merged (choose a target to page on).
    std::vector<std::pair<EventRow, size_t>> all;
    std::mutex mutex;
    // Eight targets at a time, at most kEventTargets of them (failures first).
    std::vector<size_t> targets = EventTargets(env);
    ParallelFor(targets.size(), 8, [&](size_t k) {
      size_t i = targets[k];
      auto connection = env.store.Connect(i);
      if (!connection.ok()) return;
      auto events = ReadEvents(**connection, env.store.options().schema, filter);
      if (!events.ok()) return;
      std::lock_guard<std::mutex> lock(mutex);
      for (auto& row : *events) all.push_back({std::move(row), i});
    });
    std::stable_sort(all.begin(), all.end(),
                     [](const auto& a, const auto& b) { return a.first.at > b.first.at; });
    if (all.size() > 50) all.resize(50);
    body +=
        "<div class=\"scroll\"><table class=\"events\"><thead><tr><th>#</th><th>At</th>"
        "<th>Target</th><th>Event</th><th>Version</th><th>Actor</th></tr></thead><tbody>";
    for (const auto& [row, i] : all) {
      body += "<tr data-event-id=\"" + std::to_string(row.id) + "\"><td>" + std::to_string(row.id) +
              "</td><td>" + Escape(ShortTime(row.at)) + "</td><td>" +
              Escape(env.store.source(i).name) + "</td><td>" + Escape(row.event) + "</td><td>" +
              Escape(row.version) + "</td><td>" + Escape(row.actor) + "</td></tr>";
    }
    body += "</tbody></table></div><p class=\"note\">The newest 50 events of " +
            std::to_string(targets.size()) + " of " + std::to_string(env.store.size()) +
            " targets (at most " + std::to_string(kEventTargets) +
            ", failures first); choose a target to see all of its events and page back.</p>";
  }
  if (!more.empty())
    body += "<p><a rel=\"next\" href=\"" + Escape(more) + "\">Older events</a></p>";
  return Html(200, PageFor(env, request, "Events", "events", body));
}

}  // namespace tandem::dashboard::internal
