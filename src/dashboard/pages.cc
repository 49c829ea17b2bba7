// The list pages: the overview (one row per target, failures first), every job, and the
// dispatcher of /targets/... . Rendered from the store's snapshots: no database read.
#include <algorithm>
#include <cstdlib>

#include "dashboard/html.h"
#include "dashboard/routes.h"

namespace tandem::dashboard::internal {

std::string PageFor(Env& env, const server::Request& request, const std::string& title,
                    const std::string& nav, const std::string& body) {
  PageOptions options;
  options.title = title;
  options.nav = nav;
  options.read_only = env.auth.read_only();
  options.logged_in = env.auth.HasSession(request);
  return Page(options, body);
}

std::string StatusBadge(const std::string& status) {
  return "<span class=\"status s-" + Escape(status) + "\">" + Escape(status) + "</span>";
}

std::string TargetHref(const std::string& target) { return "/targets/" + UrlEncode(target); }

namespace {

std::string ProgressCell(const jobs::Job& job) {
  std::string out;
  int percent = ProgressPercent(job);
  if (percent >= 0) {
    out += "<progress max=\"100\" value=\"" + std::to_string(percent) + "\" data-field=\"bar\">" +
           std::to_string(percent) + "%</progress> ";
  }
  out += "<span data-field=\"progress\">" + Escape(ProgressText(job)) + "</span>";
  return out;
}

std::string Count(const std::map<std::string, int>& counts, const char* name) {
  auto it = counts.find(name);
  return std::to_string(it == counts.end() ? 0 : it->second);
}

}  // namespace

std::string JobsTable(const std::vector<JobRow>& list, bool show_target) {
  if (list.empty()) return "<p class=\"empty\">No jobs.</p>";
  {
    std::string out =
        "<div class=\"scroll\"><table class=\"jobs\"><thead><tr><th>Job</th>" +
        std::string(show_target ? "<th>Target</th>" : "") +
        "<th>Migration</th><th>Kind</th><th>Status</th><th>Attempts</th><th>Progress</th>"
        "<th>Queued</th><th>Started</th><th>Duration</th></tr></thead><tbody>";
    for (const JobRow& row : list) {
      const std::string& target = *row.target;
      const jobs::Job* job = row.job;
      std::string id = std::to_string(job->id);
      std::string href = TargetHref(target) + "/jobs/" + id;
      std::string status(jobs::StatusName(job->status));
      out += "<tr data-job-id=\"" + id + "\" data-target=\"" + Escape(target) + "\" class=\"r-" +
             status + "\"><td><a href=\"" + Escape(href) + "\">#" + id + "</a></td>";
      if (show_target) {
        out += "<td><a href=\"" + Escape(TargetHref(target)) + "\">" + Escape(target) + "</a></td>";
      }
      out += "<td>" + Escape(job->version) + " " + Escape(job->name) + "</td><td>" +
             Escape(job->kind) + "</td><td data-field=\"status\">" + Escape(status) + "</td><td>" +
             std::to_string(job->attempts) + "</td><td>" + ProgressCell(*job) + "</td><td>" +
             Escape(ShortTime(job->queued_at)) + "</td><td>" + Escape(ShortTime(job->started_at)) +
             "</td><td>" + (job->duration_ms ? Escape(ShortDuration(*job->duration_ms)) : "") +
             "</td></tr>";
    }
    return out + "</tbody></table></div>";
  }
}

// Rows of the overview's table per page (every target is in the grid above it).
constexpr size_t kOverviewPageRows = 100;

server::Response OverviewPage(Env& env, const server::Request& request) {
  Query query = ParseQuery(request.query);
  const std::string& state = query["state"];
  const std::string& group = query["group"];
  struct Row {
    size_t index;
    std::shared_ptr<const Snapshot> snapshot;
  };
  std::vector<Row> rows;
  std::map<std::string, int> states;
  std::vector<std::string> groups;
  for (size_t i = 0; i < env.store.size(); ++i) {
    const Source& source = env.store.source(i);
    for (const auto& g : source.groups) {
      if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    }
    if (!group.empty() &&
        std::find(source.groups.begin(), source.groups.end(), group) == source.groups.end()) {
      continue;
    }
    auto snapshot = env.store.snapshot(i);
    states[snapshot->state] += 1;
    if (!state.empty() && snapshot->state != state) continue;
    rows.push_back({i, std::move(snapshot)});
  }
  // Failures first, then what runs, waits, is pending; the configured order within each.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.snapshot->rank < b.snapshot->rank; });

  std::string body;
  body.reserve(rows.size() * 600 + 4096);
  body +=
      "<h1>Overview</h1><form method=\"get\" action=\"/\" class=\"filters\"><label>State "
      "<select name=\"state\"><option value=\"\">all</option>";
  for (const auto& name : TargetStates()) {
    body += "<option value=\"" + name + "\"" + (name == state ? " selected" : "") + ">" + name +
            " (" + std::to_string(states[name]) + ")</option>";
  }
  body += "</select></label>";
  if (!groups.empty()) {
    body += " <label>Group <select name=\"group\"><option value=\"\">all</option>";
    for (const auto& g : groups) {
      body += "<option value=\"" + Escape(g) + "\"" + (g == group ? " selected" : "") + ">" +
              Escape(g) + "</option>";
    }
    body += "</select></label>";
  }
  body += " <button type=\"submit\">Filter</button></form>";
  // A strip of one square per target: a fleet of hundreds read at a glance.
  if (env.store.size() > 20) {
    body += "<div class=\"grid\" aria-label=\"targets by state\">";
    for (const Row& row : rows) {
      const std::string& name = env.store.source(row.index).name;
      body += "<a class=\"cell st-" + row.snapshot->state + "\" href=\"" +
              Escape(TargetHref(name)) + "\" title=\"" + Escape(name) + ": " + row.snapshot->state +
              "\"></a>";
    }
    body += "</div>";
  }
  body +=
      "<div class=\"scroll\"><table class=\"overview\"><thead><tr><th>Target</th><th>State</th>"
      "<th>Migrations<br><small>applied · pending · running · failed</small></th>"
      "<th>Jobs<br><small>queued · running · paused · failed</small></th><th>Running</th>"
      "<th>Oldest queued</th></tr></thead><tbody>";
  // The table is paged: a browser lays out 500 rows of six cells in about a second on a small
  // machine, and the grid above already shows every target. Failures come first, so the first
  // page holds what needs a person.
  size_t pages = std::max<size_t>(1, (rows.size() + kOverviewPageRows - 1) / kOverviewPageRows);
  size_t page = 1;
  if (const std::string& asked = query["page"]; !asked.empty()) {
    page = std::clamp<size_t>(std::strtoul(asked.c_str(), nullptr, 10), 1, pages);
  }
  size_t first = (page - 1) * kOverviewPageRows;
  size_t last = std::min(rows.size(), first + kOverviewPageRows);
  for (size_t r = first; r < last; ++r) {
    const Row& row = rows[r];
    const Source& source = env.store.source(row.index);
    const Snapshot& s = *row.snapshot;
    body += "<tr data-target=\"" + Escape(source.name) + "\" class=\"st-" + s.state +
            "\"><td><a href=\"" + Escape(TargetHref(source.name)) + "\">" + Escape(source.name) +
            "</a>";
    for (const auto& g : source.groups) body += " <span class=\"group\">" + Escape(g) + "</span>";
    body += "</td><td data-field=\"state\">" + StatusBadge(s.state);
    if (!s.error.ok()) {
      std::string message = s.error.message();
      body += "<div class=\"error\">" + Escape(message.substr(0, message.find('\n'))) + "</div>";
    }
    body += "</td><td data-field=\"migrations\">" + Count(s.migration_counts, "succeeded") + " · " +
            Count(s.migration_counts, "pending") + " · " + Count(s.migration_counts, "running") +
            " · " + Count(s.migration_counts, "failed") + "</td><td data-field=\"jobs\">" +
            Count(s.job_counts, "queued") + " · " + Count(s.job_counts, "running") + " · " +
            Count(s.job_counts, "paused") + " · " + Count(s.job_counts, "failed") +
            "</td><td data-field=\"running\">";
    if (s.running_job >= 0) {
      const jobs::Job& job = s.jobs[s.running_job];
      body += "<a href=\"" + Escape(TargetHref(source.name)) + "/jobs/" + std::to_string(job.id) +
              "\">" + Escape(job.version + " " + job.name) + "</a> " + ProgressCell(job);
    }
    body += "</td><td data-field=\"oldest\">";
    if (s.oldest_queued >= 0) {
      const jobs::Job& job = s.jobs[s.oldest_queued];
      body += Escape(job.version + " " + job.name) + " <small>since " +
              Escape(ShortTime(job.queued_at)) + "</small>";
    }
    body += "</td></tr>";
  }
  body += "</tbody></table></div>";
  if (rows.empty()) body += "<p class=\"empty\">No target matches.</p>";
  if (pages > 1) {
    auto link = [&](size_t to, const std::string& text) {
      std::string href = "/?page=" + std::to_string(to);
      if (!state.empty()) href += "&state=" + UrlEncode(state);
      if (!group.empty()) href += "&group=" + UrlEncode(group);
      return "<a href=\"" + Escape(href) + "\">" + text + "</a>";
    };
    body += "<nav class=\"pager\">targets " + std::to_string(first + 1) + "–" +
            std::to_string(last) + " of " + std::to_string(rows.size());
    if (page > 1) body += " · " + link(page - 1, "previous");
    if (page < pages) body += " · " + link(page + 1, "next");
    body += "</nav>";
  }
  return Html(200, PageFor(env, request, "Overview", "overview", body));
}

server::Response JobsPage(Env& env, const server::Request& request) {
  Query query = ParseQuery(request.query);
  const std::string& status = query["status"];
  std::string body =
      "<h1>Jobs</h1><form method=\"get\" action=\"/jobs\" class=\"filters\">"
      "<label>Status <select name=\"status\"><option value=\"\">all</option>";
  for (const char* name : {"queued", "awaiting-approval", "running", "retrying", "paused",
                           "succeeded", "failed", "cancelled"}) {
    body += std::string("<option") + (status == name ? " selected" : "") + ">" + name + "</option>";
  }
  body += "</select></label> <button type=\"submit\">Filter</button></form>";
  // Open jobs of every target first, then the finished ones, newest first, at most 1,000 rows.
  std::vector<std::pair<size_t, const jobs::Job*>> open, done;
  std::vector<std::shared_ptr<const Snapshot>> keep;
  for (size_t i = 0; i < env.store.size(); ++i) {
    keep.push_back(env.store.snapshot(i));
    for (auto it = keep.back()->jobs.rbegin(); it != keep.back()->jobs.rend(); ++it) {
      if (!status.empty() && jobs::StatusName(it->status) != status) continue;
      (jobs::IsDone(it->status) ? done : open).push_back({i, &*it});
    }
  }
  open.insert(open.end(), done.begin(), done.end());
  if (open.size() > 1000) open.resize(1000);
  std::vector<JobRow> rows;
  for (const auto& [index, job] : open) rows.push_back({&env.store.source(index).name, job});
  body += JobsTable(rows, true);
  return Html(200, PageFor(env, request, "Jobs", "jobs", body));
}

server::Response TargetPages(Env& env, const server::Request& request) {
  std::vector<std::string> segments = Segments(request.path, "/targets/");
  if (segments.empty()) return NotFoundPage(env, request, "no such page");
  auto index = env.store.Find(segments[0]);
  if (!index) return NotFoundPage(env, request, "no such target");
  if (segments.size() == 1) return TargetPage(env, request, *index);
  if (segments.size() == 3 && segments[1] == "migrations") {
    return MigrationPage(env, request, *index, segments[2]);
  }
  if (segments.size() == 3 && segments[1] == "jobs") {
    try {
      size_t used = 0;
      long long id = std::stoll(segments[2], &used);
      if (used == segments[2].size() && id > 0) return JobPage(env, request, *index, id);
    } catch (const std::exception&) {
    }
  }
  return NotFoundPage(env, request, "no such page");
}

}  // namespace tandem::dashboard::internal
