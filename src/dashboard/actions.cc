// What changes something: the job actions (through jobs/transitions.h, each an event naming the
// actor) and logging in and out. The server has already checked the token or session and the
// origin (auth.h) before any of these runs.
#include <thread>

#include "dashboard/html.h"
#include "dashboard/routes.h"
#include "jobs/transitions.h"

namespace tandem::dashboard::internal {
namespace {

// A browser form (no script) gets the job page back; a script or fetch() gets JSON.
bool WantsJson(const server::Request& request) {
  const std::string* accept = request.Header("accept");
  if (accept != nullptr && accept->find("application/json") != std::string::npos) return true;
  return request.Header("authorization") != nullptr;
}

std::string ActorOf(const server::Request& request, const Query& form) {
  // A name the person gives is kept, but after "dashboard" and the address: the event always
  // says where the change came from.
  std::string actor = "dashboard " + (request.remote.empty() ? "unknown" : request.remote);
  auto it = form.find("actor");
  if (it != form.end() && !it->second.empty()) actor += " (" + it->second.substr(0, 100) + ")";
  return actor;
}

}  // namespace

server::Response ApiAction(Env& env, const server::Request& request) {
  std::vector<std::string> segments = Segments(request.path, "/api/jobs/");
  if (segments.size() != 2) return JsonReply(404, {{"error", "not found"}});
  long long id = 0;
  try {
    size_t used = 0;
    id = std::stoll(segments[0], &used);
    if (used != segments[0].size() || id <= 0) throw std::invalid_argument("id");
  } catch (const std::exception&) {
    return JsonReply(404, {{"error", "not found"}});
  }
  const std::string& action = segments[1];
  using Transition =
      Result<jobs::Job> (*)(pg::Connection&, const std::string&, long long, const jobs::Change&);
  Transition transition = nullptr;
  if (action == "pause") transition = jobs::Pause;
  if (action == "resume") transition = jobs::Resume;
  if (action == "retry") transition = jobs::Retry;
  if (action == "cancel") transition = jobs::Cancel;
  if (action == "approve") transition = jobs::Approve;
  if (transition == nullptr) return JsonReply(404, {{"error", "unknown action"}});

  Query query = ParseQuery(request.query);
  Query form = ParseQuery(request.body);
  if (query.count("target") == 0 && form.count("target") > 0) query["target"] = form["target"];
  std::optional<server::Response> refusal;
  auto index = ResolveTarget(env, query, &refusal);
  if (!index) return *refusal;
  const std::string& target = env.store.source(*index).name;

  auto connection = env.store.Connect(*index);
  if (!connection.ok()) return JsonReply(503, {{"error", "target unreachable"}});
  jobs::Change change;
  change.actor = ActorOf(request, form);
  change.reason = form.count("reason") ? form["reason"].substr(0, 500) : "";
  if (change.reason.empty()) change.reason = action + " from the dashboard";
  auto job = transition(**connection, env.store.options().schema, id, change);
  connection->reset();
  if (!job.ok()) {
    int status = job.status().code() == StatusCode::kInvalidInput ? 404 : 409;
    return JsonReply(status, {{"error", job.status().message()}});
  }
  // A target without a LISTEN connection of its own learns of the change now.
  if (!env.store.listened(*index)) env.store.Refresh(*index);
  if (WantsJson(request)) {
    nlohmann::json out = JobJson(target, *job);
    out.erase("type");
    return JsonReply(200, out);
  }
  server::Response response = server::Response::Text(303, "see the job\n");
  response.headers.emplace_back("Location",
                                "/targets/" + UrlEncode(target) + "/jobs/" + std::to_string(id));
  return response;
}

server::Response LoginPage(Env& env, const server::Request& request) {
  std::string body = "<h1>Log in</h1>";
  if (env.auth.read_only()) {
    body +=
        "<p class=\"note\">This dashboard is read-only: no token is configured (set "
        "TANDEM_DASHBOARD_TOKEN, or the variable [dashboard] token_env names, to allow "
        "changes).</p>";
  }
  if (ParseQuery(request.query).count("failed")) {
    body += "<p class=\"error\">That token is not the one configured.</p>";
  }
  body +=
      "<form method=\"post\" action=\"/login\" class=\"login\"><label>Token "
      "<input name=\"token\" type=\"password\" autocomplete=\"current-password\" "
      "required></label> <button type=\"submit\">Log in</button></form>";
  return Html(200, PageFor(env, request, "Log in", "login", body));
}

server::Response LoginPost(Env& env, const server::Request& request) {
  Query form = ParseQuery(request.body);
  auto session = env.auth.Login(form["token"]);
  if (!session) {
    // A wrong guess costs a little time: guessing many is slow.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server::Response response = server::Response::Text(303, "wrong token\n");
    response.headers.emplace_back("Location", "/login?failed=1");
    return response;
  }
  server::Response response = server::Response::Text(303, "logged in\n");
  response.headers.emplace_back("Set-Cookie", Auth::CookieFor(*session, request));
  response.headers.emplace_back("Location", "/");
  return response;
}

server::Response LogoutPost(Env& env, const server::Request& request) {
  env.auth.Logout(request);
  server::Response response = server::Response::Text(303, "logged out\n");
  response.headers.emplace_back("Set-Cookie", Auth::ClearCookie());
  response.headers.emplace_back("Location", "/");
  return response;
}

}  // namespace tandem::dashboard::internal
