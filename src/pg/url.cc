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
        .WithDetail(RedactSecrets(reason))
        .WithHint("write it as postgresql://user@host:port/dbname");
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
  static const std::regex kUrlPassword(R"(([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):[^@\s]*@)");
  static const std::regex kKeyValuePassword(R"((password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+))",
                                            std::regex::icase);
  std::string out = std::regex_replace(std::string(text), kUrlPassword, "$1:***@");
  out = std::regex_replace(out, kKeyValuePassword, "$1***");
  return out;
}

}  // namespace tandem::pg
