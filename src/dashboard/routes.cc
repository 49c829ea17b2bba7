// What the handlers share: replies, resolving the target of a request, path segments and the
// actions a job's state allows.
#include "dashboard/routes.h"

#include <algorithm>

#include "dashboard/html.h"

namespace tandem::dashboard::internal {

server::Response Html(int status, std::string body) {
  server::Response response = server::Response::Text(status, std::move(body));
  response.content_type = "text/html; charset=utf-8";
  // Scripts and styles only from the dashboard itself: an injected tag would not run even if
  // something escaped the escaping.
  response.headers.emplace_back("Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; base-uri 'none'; form-action 'self'; "
                                "frame-ancestors 'none'");
  response.headers.emplace_back("Referrer-Policy", "same-origin");
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

server::Response JsonReply(int status, const nlohmann::json& body) {
  server::Response response = server::Response::Json(
      status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

server::Response NotFoundPage(const Env& env, const server::Request& request,
                              const std::string& what) {
  PageOptions options;
  options.title = "Not found";
  options.read_only = env.auth.read_only();
  return Html(404, Page(options, "<h1>Not found</h1><p>" + Escape(what) + "</p>"));
}

std::optional<size_t> ResolveTarget(const Env& env, const Query& query,
                                    std::optional<server::Response>* refusal) {
  auto it = query.find("target");
  if (it == query.end() || it->second.empty()) {
    if (env.store.size() == 1) return 0;
    *refusal = JsonReply(400, {{"error", "several targets: name one with ?target=NAME"}});
    return std::nullopt;
  }
  auto index = env.store.Find(it->second);
  if (!index) *refusal = JsonReply(404, {{"error", "no such target"}});
  return index;
}

std::vector<std::string> Segments(std::string_view path, std::string_view prefix) {
  std::vector<std::string> out;
  if (path.substr(0, prefix.size()) != prefix) return out;
  path.remove_prefix(prefix.size());
  while (!path.empty()) {
    size_t end = path.find('/');
    std::string_view segment = path.substr(0, end);
    // Percent-decoding only: a '+' in a path is a plus.
    std::string decoded;
    for (size_t i = 0; i < segment.size(); ++i) {
      if (segment[i] == '%' && i + 2 < segment.size()) {
        decoded += UrlDecode(segment.substr(i, 3));
        i += 2;
      } else {
        decoded += segment[i];
      }
    }
    out.push_back(decoded);
    if (end == std::string_view::npos) break;
    path.remove_prefix(end + 1);
  }
  return out;
}

std::vector<size_t> EventTargets(const Env& env) {
  std::vector<std::pair<int, size_t>> ranked;
  for (size_t i = 0; i < env.store.size(); ++i) {
    auto snapshot = env.store.snapshot(i);
    if (snapshot->state == "unreachable") continue;
    ranked.push_back({snapshot->rank, i});
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  if (ranked.size() > kEventTargets) ranked.resize(kEventTargets);
  std::vector<size_t> out;
  for (const auto& [rank, i] : ranked) out.push_back(i);
  return out;
}

std::string ActionStatuses(const std::string& action) {
  if (action == "pause") return "queued awaiting-approval retrying running";
  if (action == "resume") return "paused";
  if (action == "retry") return "failed cancelled retrying";
  if (action == "cancel") return "queued awaiting-approval running retrying paused failed";
  if (action == "approve") return "awaiting-approval";
  return "";
}

std::vector<std::string> AllowedActions(const jobs::Job& job) {
  std::vector<std::string> out;
  std::string status(jobs::StatusName(job.status));
  for (const char* action : {"pause", "resume", "retry", "cancel", "approve"}) {
    std::string statuses = " " + ActionStatuses(action) + " ";
    bool allowed = statuses.find(" " + status + " ") != std::string::npos;
    // A paused job that was never approved is approved in place (it stays paused).
    if (std::string(action) == "approve" && job.status == jobs::JobStatus::kPaused &&
        !job.approved) {
      allowed = true;
    }
    if (allowed) out.push_back(action);
  }
  return out;
}

}  // namespace tandem::dashboard::internal
