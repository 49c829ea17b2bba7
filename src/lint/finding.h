// What `tandem lint` reports: findings with their rule, severity, position, the lock they take,
// why they matter and the safe recipe; and the PostgreSQL version the analysis assumed.
// Start here to read src/lint/: rule.h is the rule API, engine.h runs rules over migrations,
// source.h collects migrations from paths, report.h renders, gate.h is release's entry point.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tandem::lint {

enum class Severity { kInfo, kWarning, kError };
std::string_view SeverityName(Severity severity);  // "info", "warning", "error"
std::optional<Severity> ParseSeverity(std::string_view name);

// A PostgreSQL server version; minor is -1 when only the major version is known.
struct PgVersion {
  int major = 15;
  int minor = -1;
  // Accepts "15", "14.2", "140002" (server_version_num) and "9.6".
  static std::optional<PgVersion> Parse(std::string_view text);
  std::string ToString() const;
};

struct Finding {
  std::string rule;  // stable kebab-case id
  Severity severity = Severity::kError;
  std::string file;
  int line = 0;
  int column = 0;
  int length = 0;         // bytes of the span underlined on `line` (0: to the end of the statement)
  std::string message;    // what is wrong, about this statement
  std::string why;        // one sentence: what goes wrong in production
  std::string lock;       // the lock taken, e.g. "ACCESS EXCLUSIVE on \"users\""
  std::string blocks;     // what that lock blocks: "reads, writes and schema changes"
  std::string recipe;     // the safe alternative, as SQL for this statement
  std::string versions;   // the PostgreSQL versions the finding applies to
  std::string doc;        // docs/rules/<id>.md
  std::string statement;  // the statement's text (for reporters that show it)
  std::string migration;  // the migration's version, when known
};

struct LintReport {
  std::vector<Finding> findings;  // ordered by file, line, column
  int files = 0;                  // files analysed (including ones that did not parse)
  int statements = 0;
  PgVersion pg_version;
  std::string pg_version_source;  // "--pg-version", "tandem.toml", "server", "default"

  bool HasErrors() const;
  int Count(Severity severity) const;
};

}  // namespace tandem::lint
