#include "dashboard/dashboard.h"

#include <cstdlib>

#include "dashboard/html.h"
#include "dashboard/routes.h"
#include "pg/url.h"

namespace tandem::dashboard {

Source MakeSource(std::string name, std::vector<std::string> groups, std::string url,
                  Status problem) {
  Source source;
  source.name = std::move(name);
  source.groups = std::move(groups);
  source.problem = std::move(problem);
  if (source.problem.ok()) {
    auto parsed = pg::ParseDatabaseUrl(url);
    if (parsed.ok()) {
      source.redacted = parsed->Redacted();
    } else {
      Status status = parsed.status();
      source.problem = std::move(status).Prefix("target \"" + source.name + "\"");
    }
  }
  source.url = std::move(url);
  return source;
}

std::string TokenFromEnvironment(const config::DashboardSettings& settings) {
  const char* value = std::getenv(settings.token_env.c_str());
  return value == nullptr ? "" : value;
}

Status CheckListenAddress(const server::ListenAddress& address, bool has_token,
                          const std::string& token_env) {
  if (address.loopback() || has_token) return Status::Ok();
  return Status::InvalidInput("refusing to serve the dashboard on " + address.ToString() +
                              " without a token")
      .WithDetail(
          "an address other than loopback is reachable from other machines, and the "
          "dashboard shows every target's migrations and jobs")
      .WithHint("set " + token_env +
                " (read-only pages still need it to be exposed), or serve on 127.0.0.1 behind a "
                "reverse proxy that authenticates");
}

Dashboard::Dashboard(DashboardOptions options)
    : options_(std::move(options)),
      store_(options_.sources, options_.store),
      auth_(options_.token) {}

Dashboard::~Dashboard() { Stop(); }

void Dashboard::Start() { store_.Start(); }
void Dashboard::Stop() { store_.Stop(); }

std::function<std::optional<server::Response>(const server::Request&)> Dashboard::Authorizer() {
  return [this](const server::Request& request) { return auth_.Authorize(request); };
}

void Dashboard::AddRoutes(server::HttpServer& server) {
  auto env = std::make_shared<internal::Env>(
      internal::Env{store_, auth_, options_.files ? &*options_.files : nullptr});
  auto bind = [env](server::Response (*handler)(internal::Env&, const server::Request&)) {
    return [env, handler](const server::Request& request) { return handler(*env, request); };
  };
  server.Get("/", bind(internal::OverviewPage));
  server.Get("/jobs", bind(internal::JobsPage));
  server.Get("/events", bind(internal::EventsPage));
  server.GetPrefix("/targets/", bind(internal::TargetPages));
  server.Get("/login", bind(internal::LoginPage));
  server.Post("/login", bind(internal::LoginPost));
  server.Post("/logout", bind(internal::LogoutPost));

  server.Get("/api/targets", bind(internal::ApiTargets));
  server.GetPrefix("/api/targets/", bind(internal::ApiTargetMigrations));
  server.Get("/api/jobs", bind(internal::ApiJobs));
  server.GetPrefix("/api/jobs/", bind(internal::ApiJob));
  server.PostPrefix("/api/jobs/", bind(internal::ApiAction));
  server.Get("/api/events", bind(internal::ApiEvents));
  server.Get("/api/stream", bind(internal::ApiStream));

  auto asset = [](const char* type, const char* body) {
    return [type, body](const server::Request&) {
      server::Response response = server::Response::Text(200, body);
      response.content_type = type;
      response.headers.emplace_back("Cache-Control", "public, max-age=300");
      return response;
    };
  };
  server.Get("/assets/app.js", asset("text/javascript; charset=utf-8", internal::kAppJs));
  server.Get("/assets/app.css", asset("text/css; charset=utf-8", internal::kAppCss));
  server.Get("/favicon.ico", asset("image/svg+xml", internal::kFavicon));
}

}  // namespace tandem::dashboard
