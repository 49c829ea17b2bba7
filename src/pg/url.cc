#include "pg/url.h"

#include <libpq-fe.h>

#include <regex>

namespace tandem::pg {

std::string DatabaseUrl::Redacted() const {
  std::string out = "postgresql://";
  if (!user.empty()) out += user + "@";
  if (host.empty() || host.front() == '/') {
    out += "localhost";
  } else {
    out += host;
  }
  if (!port.empty()) out += ":" + port;
  out += "/" + dbname;
  if (!host.empty() && host.front() == '/') out += "?host=" + host;
  return out;
}

std::string DatabaseUrl::HostAndPort() const {
  std::string h = host.empty() ? "localhost" : host;
  std::string p = port.empty() ? "5432" : port;
  if (h.front() == '/') return "socket " + h + " port " + p;
  return h + ":" + p;
}

namespace {

bool IsUrl(std::string_view text) {
  return text.starts_with("postgresql://") || text.starts_with("postgres://");
}

// Where a password may be in `text`, as written (percent-encoded or not): in a URL, from the
// ':' after the user name to the last '@' (an unencoded '@' in the password makes libpq end it
// early, so everything up to the last one may be secret); in key=value form, everything after
// "password=". Empty when there is none.
std::string_view SecretRegion(std::string_view text) {
  if (IsUrl(text)) {
    size_t start = text.find("://") + 3;
    size_t at = text.rfind('@');
    if (at == std::string_view::npos || at < start) return {};
    size_t colon = text.find(':', start);
    if (colon == std::string_view::npos || colon > at) return {};
    return text.substr(colon + 1, at - colon - 1);
  }
  size_t key = text.find("password");
  if (key == std::string_view::npos) return {};
  return text.substr(key + 8);
}

// libpq quotes the token it could not read ("invalid percent-encoded token: "..."") and that
// token may be the password: every quoted token that is part of the secret region goes.
std::string RedactTokens(std::string reason, std::string_view secret) {
  if (secret.empty()) return reason;
  size_t open = 0;
  while ((open = reason.find('"', open)) != std::string::npos) {
    size_t close = reason.find('"', open + 1);
    if (close == std::string::npos) break;
    std::string_view token(reason.data() + open + 1, close - open - 1);
    if (!token.empty() &&
        (secret.find(token) != std::string_view::npos || token.find(secret) != std::string::npos)) {
      reason.replace(open + 1, token.size(), "***");
      close = open + 4;
    }
    open = close + 1;
  }
  return reason;
}

// Each of a comma-separated list of ports is empty (libpq's default) or a number 1-65535.
bool ValidPorts(std::string_view ports) {
  while (true) {
    size_t comma = ports.find(',');
    std::string_view port = ports.substr(0, comma);
    if (!port.empty()) {
      if (port.size() > 5) return false;
      for (char c : port) {
        if (c < '0' || c > '9') return false;
      }
      int n = std::stoi(std::string(port));
      if (n < 1 || n > 65535) return false;
    }
    if (comma == std::string_view::npos) return true;
    ports.remove_prefix(comma + 1);
  }
}

}  // namespace

Result<DatabaseUrl> ParseDatabaseUrl(std::string_view conninfo) {
  std::string text(conninfo);
  if (text.empty()) {
    return Status::InvalidInput("no database URL given")
        .WithHint("set DATABASE_URL, pass --database-url, or set [database] url in tandem.toml");
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &error);
  if (options == nullptr) {
    std::string reason = error ? error : "out of memory";
    if (error) PQfreemem(error);
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == '.')) reason.pop_back();
    return Status::InvalidInput("malformed database URL \"" + RedactSecrets(text) + "\"")
        .WithDetail(RedactSecrets(RedactTokens(reason, SecretRegion(text))))
        .WithHint(
            "write it as postgresql://user@host:port/dbname, with special characters in "
            "the password percent-encoded (@ as %40, / as %2F, % as %25)");
  }
  DatabaseUrl url;
  url.conninfo = text;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string_view key = o->keyword;
    if (key == "host") url.host = o->val;
    if (key == "hostaddr" && url.host.empty()) url.host = o->val;
    if (key == "port") url.port = o->val;
    if (key == "user") url.user = o->val;
    if (key == "dbname") url.dbname = o->val;
  }
  PQconninfoFree(options);
  // libpq ends the password at the first '@', so "app:p@ss@db" has the host "ss@db": refused
  // here, before the rest of the password is printed as a host name or sent to DNS.
  // Likewise a '/' in the password ends the authority early: "app:12/pw@db/x" has the host
  // "app", the port 12 and the database "pw@db/x". An '@' in the path is only ever that.
  std::string_view before_query = std::string_view(text).substr(0, text.find('?'));
  size_t path =
      IsUrl(text) ? before_query.find('/', before_query.find("://") + 3) : std::string_view::npos;
  bool at_in_path =
      path != std::string_view::npos && before_query.find('@', path) != std::string_view::npos;
  if (IsUrl(text) && (url.host.find('@') != std::string::npos || at_in_path)) {
    return Status::InvalidInput("malformed database URL \"" + RedactSecrets(text) + "\"")
        .WithDetail("an \"@\" or \"/\" in the user name or password is not percent-encoded")
        .WithHint("percent-encode them: @ as %40, / as %2F");
  }
  // The value is not shown: when the password holds a '/', libpq reads part of it as the port.
  if (!ValidPorts(url.port)) {
    return Status::InvalidInput("malformed database URL \"" + RedactSecrets(text) + "\"")
        .WithDetail("the port is not a number from 1 to 65535")
        .WithHint(
            "write it as postgresql://user@host:port/dbname, with special characters in "
            "the password percent-encoded (@ as %40, / as %2F, % as %25)");
  }
  return url;
}

std::vector<std::string> ChildConnection::Environment() const {
  if (password.empty()) return {};
  return {"PGPASSWORD=" + password};
}

ChildConnection ForChildProcess(const DatabaseUrl& url) {
  ChildConnection child;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.conninfo.c_str(), &error);
  if (options == nullptr) {
    if (error) PQfreemem(error);
    child.conninfo = url.conninfo;
    return child;
  }
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string_view key = o->keyword;
    if (key == "password") {
      child.password = o->val;
      continue;
    }
    // Values are single-quoted with \ and ' escaped, as libpq's conninfo syntax wants.
    std::string value;
    for (const char* c = o->val; *c; ++c) {
      if (*c == '\\' || *c == '\'') value.push_back('\\');
      value.push_back(*c);
    }
    if (!child.conninfo.empty()) child.conninfo += " ";
    child.conninfo += std::string(key) + "='" + value + "'";
  }
  PQconninfoFree(options);
  return child;
}

std::string RedactSecrets(std::string_view text) {
  // Up to the last '@' of the URL: an unencoded '@' in the password is still password. Too
  // much redacted (an '@' later in the same word) is harmless; too little is not.
  static const std::regex kUrlPassword(R"(([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):\S*@)");
  static const std::regex kKeyValuePassword(R"((password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+))",
                                            std::regex::icase);
  std::string out = std::regex_replace(std::string(text), kUrlPassword, "$1:***@");
  out = std::regex_replace(out, kKeyValuePassword, "$1***");
  return out;
}

}  // namespace tandem::pg
