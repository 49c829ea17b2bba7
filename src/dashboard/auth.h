// Who may change something through the dashboard, and from where.
//
// Without a token the dashboard is read-only: every POST answers 403. With one, a POST needs
// `Authorization: Bearer <token>` or the session cookie that POST /login sets after checking
// the token; and it must come from the dashboard's own pages: Origin, Sec-Fetch-Site or Referer,
// whichever the client sent, must name the host the request was sent to. A cookie without any
// of the three is refused (a browser always sends one on a POST); a bearer request without them
// is a script's and may proceed (a browser never adds that header on its own). Refusals change
// nothing and name no secret.
//
// The cookie holds a random session id (256 bits), never the token; sessions live in memory
// and end after 12 hours, at logout, or when the process ends.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "server/http_server.h"

namespace tandem::dashboard {

inline constexpr const char* kSessionCookie = "tandem_session";

enum class Origin { kSame, kCross, kUnknown };
// What the request's Origin, Sec-Fetch-Site and Referer headers say about where it came from,
// compared with its Host (X-Forwarded-Host behind a proxy).
Origin RequestOrigin(const server::Request& request);

class Auth {
 public:
  explicit Auth(std::string token) : token_(std::move(token)) {}

  bool read_only() const { return token_.empty(); }
  // The ServerOptions::authorize of the dashboard's server.
  std::optional<server::Response> Authorize(const server::Request& request);
  // Whether the request carries a live session cookie.
  bool HasSession(const server::Request& request);
  // A new session when `given` is the token (compared in constant time); nullopt otherwise.
  std::optional<std::string> Login(const std::string& given);
  void Logout(const server::Request& request);
  // The Set-Cookie value for a session (Secure when the request came over https via a proxy).
  static std::string CookieFor(const std::string& session, const server::Request& request);
  static std::string ClearCookie();

 private:
  std::optional<std::string> SessionOf(const server::Request& request);

  std::string token_;  // never logged
  std::mutex mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> sessions_;  // id -> expiry
};

}  // namespace tandem::dashboard
