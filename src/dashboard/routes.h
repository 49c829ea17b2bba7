// Inside the dashboard: the handlers behind the routes dashboard.cc registers, split by file
// (api.cc: JSON and the stream; actions.cc: POSTs; pages.cc: overview, jobs, target;
// detail_pages.cc: job, migration, events, login), and what they share.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "dashboard/auth.h"
#include "dashboard/store.h"
#include "migrate/migration.h"
#include "server/http_server.h"

namespace tandem::dashboard::internal {

struct Env {
  Store& store;
  Auth& auth;
  const migrate::MigrationSet* files;  // may be null
};

using Query = std::map<std::string, std::string>;

server::Response Html(int status, std::string body);
server::Response JsonReply(int status, const nlohmann::json& body);
server::Response NotFoundPage(const Env& env, const server::Request& request,
                              const std::string& what);
// The target a request names with ?target=NAME, or the only one when there is one; else an
// answer (400 when it names none of several, 404 for an unknown name).
std::optional<size_t> ResolveTarget(const Env& env, const Query& query,
                                    std::optional<server::Response>* refusal);
// The path's segments after `prefix`, percent-decoded: "/targets/a%2Fb/jobs/3" -> {a/b, jobs, 3}.
std::vector<std::string> Segments(std::string_view path, std::string_view prefix);
// The targets a fleet-wide read of the events covers: every target up to kEventTargets, beyond
// that the first kEventTargets in the overview's order (failures first), so that a page over a
// fleet of 500 does not open 500 connections.
inline constexpr size_t kEventTargets = 50;
std::vector<size_t> EventTargets(const Env& env);
// Which actions a job in this state allows, as the buttons show them.
std::vector<std::string> AllowedActions(const jobs::Job& job);
// Every status in which `action` is allowed (the buttons' data-when, for the script).
std::string ActionStatuses(const std::string& action);

// api.cc
server::Response ApiTargets(Env& env, const server::Request& request);
server::Response ApiTargetMigrations(Env& env, const server::Request& request);
server::Response ApiJobs(Env& env, const server::Request& request);
server::Response ApiJob(Env& env, const server::Request& request);
server::Response ApiEvents(Env& env, const server::Request& request);
server::Response ApiStream(Env& env, const server::Request& request);
// actions.cc
server::Response ApiAction(Env& env, const server::Request& request);
server::Response LoginPage(Env& env, const server::Request& request);
server::Response LoginPost(Env& env, const server::Request& request);
server::Response LogoutPost(Env& env, const server::Request& request);
// pages.cc
server::Response OverviewPage(Env& env, const server::Request& request);
server::Response JobsPage(Env& env, const server::Request& request);
server::Response TargetPages(Env& env, const server::Request& request);  // /targets/...
// detail_pages.cc
server::Response TargetPage(Env& env, const server::Request& request, size_t index);
server::Response MigrationPage(Env& env, const server::Request& request, size_t index,
                               const std::string& version);
server::Response JobPage(Env& env, const server::Request& request, size_t index, long long id);
server::Response EventsPage(Env& env, const server::Request& request);

// Shared page pieces (pages.cc).
std::string PageFor(Env& env, const server::Request& request, const std::string& title,
                    const std::string& nav, const std::string& body);
// The jobs table (tr[data-job-id][data-target] with td[data-field=status]).
struct JobRow {
  const std::string* target;
  const jobs::Job* job;
};
std::string JobsTable(const std::vector<JobRow>& rows, bool show_target);
std::string StatusBadge(const std::string& status);
std::string TargetHref(const std::string& target);

// chart.cc: the background job's chart (inline SVG) from its progress document.
std::string ProgressChart(const std::string& progress_json);

// assets.cc
extern const char* const kAppJs;
extern const char* const kAppCss;
extern const char* const kFavicon;

}  // namespace tandem::dashboard::internal
