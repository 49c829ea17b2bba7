// The JSON API (GET) and the live stream. Lists come from the store's snapshots (no database
// read per request); a single job, its SQL and the events are read live.
#include <algorithm>
#include <chrono>
#include <mutex>

#include "base/parallel_for.h"
#include "dashboard/events.h"
#include "dashboard/html.h"
#include "dashboard/routes.h"

namespace tandem::dashboard::internal {
namespace {

std::optional<long long> ParseId(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::stoll(text);
}

bool InGroup(const Source& source, const std::string& group) {
  return group.empty() ||
         std::find(source.groups.begin(), source.groups.end(), group) != source.groups.end();
}

}  // namespace

server::Response ApiTargets(Env& env, const server::Request& request) {
  Query query = ParseQuery(request.query);
  std::string state = query["state"];
  std::string group = query["group"];
  nlohmann::json targets = nlohmann::json::array();
  std::map<std::string, int> counts;
  for (size_t i = 0; i < env.store.size(); ++i) {
    const Source& source = env.store.source(i);
    if (!InGroup(source, group)) continue;
    auto snapshot = env.store.snapshot(i);
    counts[snapshot->state] += 1;
    if (!state.empty() && snapshot->state != state) continue;
    nlohmann::json entry = SummaryJson(source.name, *snapshot);
    entry.erase("type");
    entry["groups"] = source.groups;
    entry["url"] = source.redacted;
    entry["listened"] = env.store.listened(i);
    targets.push_back(std::move(entry));
  }
  return JsonReply(
      200,
      {{"read_only", env.auth.read_only()}, {"states", counts}, {"targets", std::move(targets)}});
}

server::Response ApiTargetMigrations(Env& env, const server::Request& request) {
  std::vector<std::string> segments = Segments(request.path, "/api/targets/");
  if (segments.empty() || segments.size() > 2 ||
      (segments.size() == 2 && segments[1] != "migrations")) {
    return JsonReply(404, {{"error", "not found"}});
  }
  auto index = env.store.Find(segments[0]);
  if (!index) return JsonReply(404, {{"error", "no such target"}});
  auto snapshot = env.store.snapshot(*index);
  if (segments.size() == 1) {
    nlohmann::json entry = SummaryJson(segments[0], *snapshot);
    entry.erase("type");
    entry["groups"] = env.store.source(*index).groups;
    entry["url"] = env.store.source(*index).redacted;
    return JsonReply(200, entry);
  }
  nlohmann::json migrations = nlohmann::json::array();
  for (const auto& row : snapshot->migrations) migrations.push_back(MigrationJson(row));
  return JsonReply(
      200,
      {{"target", segments[0]}, {"state", snapshot->state}, {"migrations", std::move(migrations)}});
}

server::Response ApiJobs(Env& env, const server::Request& request) {
  Query query = ParseQuery(request.query);
  std::optional<size_t> only;
  if (!query["target"].empty()) {
    only = env.store.Find(query["target"]);
    if (!only) return JsonReply(404, {{"error", "no such target"}});
  }
  const std::string& status = query["status"];
  const std::string& kind = query["kind"];
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < env.store.size(); ++i) {
    if (only && *only != i) continue;
    auto snapshot = env.store.snapshot(i);
    for (auto it = snapshot->jobs.rbegin(); it != snapshot->jobs.rend(); ++it) {
      if (!status.empty() && jobs::StatusName(it->status) != status) continue;
      if (!kind.empty() && it->kind != kind) continue;
      nlohmann::json job = JobJson(env.store.source(i).name, *it);
      job.erase("type");
      list.push_back(std::move(job));
    }
  }
  return JsonReply(200, {{"jobs", std::move(list)}});
}

server::Response ApiJob(Env& env, const server::Request& request) {
  std::vector<std::string> segments = Segments(request.path, "/api/jobs/");
  std::optional<long long> id = segments.size() == 1 ? ParseId(segments[0]) : std::nullopt;
  if (!id) return JsonReply(404, {{"error", "not found"}});
  std::optional<server::Response> refusal;
  auto index = ResolveTarget(env, ParseQuery(request.query), &refusal);
  if (!index) return *refusal;
  auto connection = env.store.Connect(*index);
  if (!connection.ok()) return JsonReply(503, {{"error", "target unreachable"}});
  auto job = jobs::FindJob(**connection, env.store.options().schema, *id, true);
  if (!job.ok()) return JsonReply(503, {{"error", "could not read the job"}});
  if (!job->has_value()) return JsonReply(404, {{"error", "no such job"}});
  const std::string& target = env.store.source(*index).name;
  nlohmann::json out = JobJson(target, **job);
  out.erase("type");
  out["sql"] = (*job)->sql;
  out["sql_line"] = (*job)->sql_line;
  out["path"] = (*job)->path;
  out["batch"] = (*job)->batch.empty() ? nlohmann::json()
                                       : nlohmann::json::parse((*job)->batch, nullptr, false);
  EventFilter filter;
  filter.job = *id;
  nlohmann::json events = nlohmann::json::array();
  if (auto rows = ReadEvents(**connection, env.store.options().schema, filter); rows.ok()) {
    for (const auto& row : *rows) events.push_back(EventJson(target, row));
  }
  out["events"] = std::move(events);
  return JsonReply(200, out);
}

server::Response ApiEvents(Env& env, const server::Request& request) {
  Query query = ParseQuery(request.query);
  EventFilter filter;
  filter.version = query["version"];
  filter.event = query["event"];
  filter.after = ParseId(query["after"]);
  filter.before = ParseId(query["before"]);
  filter.job = ParseId(query["job"]);
  if (auto limit = ParseId(query["limit"])) filter.limit = static_cast<int>(*limit);
  std::vector<size_t> indexes;
  if (!query["target"].empty()) {
    auto index = env.store.Find(query["target"]);
    if (!index) return JsonReply(404, {{"error", "no such target"}});
    indexes.push_back(*index);
  } else {
    indexes = EventTargets(env);
  }
  std::mutex mutex;
  nlohmann::json events = nlohmann::json::array();
  nlohmann::json unreachable = nlohmann::json::array();
  ParallelFor(indexes.size(), 8, [&](size_t k) {
    size_t i = indexes[k];
    const std::string& target = env.store.source(i).name;
    auto connection = env.store.Connect(i);
    Result<std::vector<EventRow>> rows =
        connection.ok() ? ReadEvents(**connection, env.store.options().schema, filter)
                        : Result<std::vector<EventRow>>(connection.status());
    std::lock_guard<std::mutex> lock(mutex);
    if (!rows.ok()) {
      unreachable.push_back(target);
      return;
    }
    for (const auto& row : *rows) events.push_back(EventJson(target, row));
  });
  // Several targets: newest first across them (ids are per target, times are comparable).
  bool ascending = filter.after.has_value();
  std::stable_sort(events.begin(), events.end(), [&](const auto& a, const auto& b) {
    return ascending ? a["at"] < b["at"] : a["at"] > b["at"];
  });
  if (events.size() > static_cast<size_t>(std::clamp(filter.limit, 1, 500))) {
    events.erase(events.begin() + std::clamp(filter.limit, 1, 500), events.end());
  }
  return JsonReply(200, {{"events", std::move(events)},
                         {"targets_read", indexes.size()},
                         {"unreachable", std::move(unreachable)}});
}

server::Response ApiStream(Env& env, const server::Request& request) {
  Query query = ParseQuery(request.query);
  std::string only = query["target"];
  long long after = env.store.hub().last_id();
  if (const std::string* last = request.Header("last-event-id")) {
    if (auto id = ParseId(*last)) after = *id;
  }
  server::Response response;
  response.content_type = "text/event-stream; charset=utf-8";
  response.headers.emplace_back("Cache-Control", "no-store");
  // nginx: do not buffer the stream (docs/dashboard.md has the proxy settings).
  response.headers.emplace_back("X-Accel-Buffering", "no");
  EventHub* hub = &env.store.hub();
  response.stream = [hub, after, only](server::ResponseStream& stream) mutable {
    if (!stream.Write("retry: 2000\n: connected\n\n")) return;
    auto last_write = std::chrono::steady_clock::now();
    while (!stream.stopping()) {
      std::string out;
      for (const HubEvent& event : hub->After(after)) {
        after = event.id;
        if (!only.empty()) {
          auto json = nlohmann::json::parse(event.data, nullptr, false);
          if (!json.is_object() || json.value("target", "") != only) continue;
        }
        out += "id: " + std::to_string(event.id) + "\ndata: " + event.data + "\n\n";
      }
      auto now = std::chrono::steady_clock::now();
      // A comment every 15 s keeps proxies from closing an idle stream.
      if (out.empty() && now - last_write > std::chrono::seconds(15)) out = ": ping\n\n";
      if (!out.empty()) {
        if (!stream.Write(out)) return;
        last_write = now;
      }
      if (stream.WaitForStop(std::chrono::milliseconds(200))) return;
    }
  };
  return response;
}

}  // namespace tandem::dashboard::internal
