// Database URLs: validation (through libpq's own parser, so anything libpq accepts is
// accepted) and redaction. Passwords never leave this file in printable form: every message
// and log line that names a database uses Redacted() or Describe().
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tandem::pg {

struct DatabaseUrl {
  std::string conninfo;  // as given: postgres://... URL or key=value string
  std::string host;      // empty when libpq's default applies
  std::string port;
  std::string user;
  std::string dbname;

  // postgresql://user@host:port/dbname with no password, for messages.
  std::string Redacted() const;
  // "host:port" or "socket /dir:port", for "could not connect to ..." messages.
  std::string HostAndPort() const;
};

// kInvalidInput with libpq's reason (the password is never echoed back).
Result<DatabaseUrl> ParseDatabaseUrl(std::string_view conninfo);

// A connection string for a child process (pg_dump, psql) without the password, which goes
// into the child's environment as PGPASSWORD instead: command lines are visible to every user
// of the machine in the process list, environments are not.
struct ChildConnection {
  std::string conninfo;  // key=value form, no password
  std::string password;  // empty when the URL has none
  // {"PGPASSWORD=..."} or nothing, for SpawnOptions::env / RunAndCapture.
  std::vector<std::string> Environment() const;
};
ChildConnection ForChildProcess(const DatabaseUrl& url);

// Removes passwords from any text that may contain a URL or a conninfo string:
// "postgres://u:secret@h/db" -> "postgres://u:***@h/db", "password=secret" -> "password=***".
std::string RedactSecrets(std::string_view text);

}  // namespace tandem::pg
