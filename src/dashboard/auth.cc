#include "dashboard/auth.h"

#include <sys/random.h>

#include <algorithm>
#include <cctype>

namespace tandem::dashboard {
namespace {

constexpr std::chrono::hours kSessionLife{12};

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

// "https://host:8080/path" -> "host:8080"; "" when it is not an http(s) URL.
std::string Authority(std::string_view url) {
  std::string lower = Lower(url);
  size_t start;
  if (lower.rfind("http://", 0) == 0) {
    start = 7;
  } else if (lower.rfind("https://", 0) == 0) {
    start = 8;
  } else {
    return "";
  }
  size_t end = lower.find_first_of("/?#", start);
  return lower.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  size_t got = 0;
  while (got < bytes) {
    ssize_t n = getrandom(raw.data() + got, bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace

Origin RequestOrigin(const server::Request& request) {
  const std::string* forwarded = request.Header("x-forwarded-host");
  const std::string* host_header = request.Header("host");
  std::string host;
  if (forwarded != nullptr) {
    host = Lower(Trim(std::string_view(*forwarded).substr(0, forwarded->find(','))));
  } else if (host_header != nullptr) {
    host = Lower(Trim(*host_header));
  }
  bool same = false;
  if (const std::string* origin = request.Header("origin")) {
    std::string authority = Authority(Trim(*origin));
    if (host.empty() || authority != host) return Origin::kCross;
    same = true;
  }
  if (const std::string* site = request.Header("sec-fetch-site")) {
    std::string value = Lower(Trim(*site));
    // "none": typed by the user or a bookmark, which never POSTs; refused like cross-site.
    if (value != "same-origin") return Origin::kCross;
    same = true;
  }
  if (!same) {
    if (const std::string* referer = request.Header("referer")) {
      std::string authority = Authority(Trim(*referer));
      if (host.empty() || authority != host) return Origin::kCross;
      same = true;
    }
  }
  return same ? Origin::kSame : Origin::kUnknown;
}

std::optional<server::Response> Auth::Authorize(const server::Request& request) {
  if (read_only()) {
    return server::Response::Text(403, "this dashboard is read-only: no token is configured\n");
  }
  Origin origin = RequestOrigin(request);
  if (origin == Origin::kCross) {
    return server::Response::Text(403, "refused: the request did not come from this dashboard\n");
  }
  // Logging in needs no session yet; it is checked in its handler (and same-origin here, so
  // that another site cannot log a browser into this one).
  if (request.path == "/login") {
    if (origin == Origin::kSame) return std::nullopt;
    return server::Response::Text(403, "refused: the request did not come from this dashboard\n");
  }
  if (server::HasBearerToken(request, token_)) return std::nullopt;
  if (HasSession(request)) {
    if (origin == Origin::kSame) return std::nullopt;
    return server::Response::Text(403, "refused: the request did not come from this dashboard\n");
  }
  server::Response response = server::Response::Text(
      401,
      "this request needs \"Authorization: Bearer <token>\" or a session (log in at /login)\n");
  response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

std::optional<std::string> Auth::SessionOf(const server::Request& request) {
  const std::string* cookies = request.Header("cookie");
  if (cookies == nullptr) return std::nullopt;
  std::string_view rest = *cookies;
  std::string prefix = std::string(kSessionCookie) + "=";
  while (!rest.empty()) {
    size_t end = rest.find(';');
    std::string item = Trim(rest.substr(0, end));
    if (item.rfind(prefix, 0) == 0) return item.substr(prefix.size());
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return std::nullopt;
}

bool Auth::HasSession(const server::Request& request) {
  if (read_only()) return false;
  auto id = SessionOf(request);
  if (!id || id->size() != 64) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = std::chrono::steady_clock::now();
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second < now ? sessions_.erase(it) : std::next(it);
  }
  // The lookup compares ids of equal, fixed length whose bits an attacker cannot choose into a
  // prefix match: a map lookup leaks nothing usable.
  return sessions_.count(*id) > 0;
}

std::optional<std::string> Auth::Login(const std::string& given) {
  if (!server::TokensMatch(given, token_)) return std::nullopt;
  std::string id = RandomHex(32);
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_[id] = std::chrono::steady_clock::now() + kSessionLife;
  return id;
}

void Auth::Logout(const server::Request& request) {
  auto id = SessionOf(request);
  if (!id) return;
  std::lock_guard<std::mutex> lock(mutex_);
  sessions_.erase(*id);
}

std::string Auth::CookieFor(const std::string& session, const server::Request& request) {
  std::string cookie = std::string(kSessionCookie) + "=" + session +
                       "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200";
  const std::string* proto = request.Header("x-forwarded-proto");
  if (proto != nullptr && Lower(Trim(*proto)) == "https") cookie += "; Secure";
  return cookie;
}

std::string Auth::ClearCookie() {
  return std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
}

}  // namespace tandem::dashboard
