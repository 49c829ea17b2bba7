// What `tandem verify` observed, as plain values: per migration, per statement, the locks,
// rewrites, scans, created and dropped objects and durations; the findings drawn from them;
// and the old-app queries that stopped working. Rendered as text or JSON by report.cc.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "lint/finding.h"
#include "verify/lock_modes.h"

namespace tandem::verify {

struct ObservedLock {
  std::string relation;  // schema-qualified unless in public: "users", "audit.log"
  std::string kind;      // pg_class.relkind: r table, i index, S sequence, v view, ...
  LockMode mode = LockMode::kAccessShare;
};

struct StatementTrace {
  int index = 0;  // 0-based within the migration's up section
  std::string file;
  int line = 0;
  int column = 0;
  std::string sql;
  bool in_transaction = true;       // false: observed from a second session (transaction off)
  std::vector<ObservedLock> locks;  // newly taken by this statement, on pre-existing relations
  // Locks on pre-existing relations the transaction already held when this statement started
  // (taken by an earlier statement of it). A statement that needs one of them takes no new
  // lock, yet the app stays blocked on it until COMMIT all the same.
  std::vector<ObservedLock> held;
  std::vector<std::string> rewrites;  // tables and indexes whose relfilenode changed
  std::vector<std::string> scans;     // tables read in full (seq_scan went up)
  std::vector<std::string> created;   // "name (kind)"
  std::vector<std::string> dropped;
  double duration_ms = 0;
  double overhead_ms = 0;  // tracing time spent around this statement
  // Transactional migrations hold every lock until COMMIT: this statement's own time plus
  // every later statement's.
  double held_until_commit_ms = 0;
  std::optional<Status> error;  // the statement failed on the shadow
};

// Severities are lint's, so a finding means the same in both reports.
using lint::Severity;
using lint::SeverityName;

struct Finding {
  std::string rule;  // stable kebab-case id: "table-rewrite", "fk-without-index", ...
  Severity severity = Severity::kWarning;
  std::string version;
  int statement_index = -1;  // -1: the migration as a whole
  std::string file;
  int line = 0;
  std::string message;  // lowercase, no trailing period
  std::string detail;
  std::string hint;
  // Join with lint: "confirmed" / "refuted" for a static finding, "observed" for one only the
  // server could make.
  std::string verdict = "observed";
};

struct MigrationTrace {
  std::string version;
  std::string name;
  bool transactional = true;
  bool succeeded = false;
  std::vector<StatementTrace> statements;
  double duration_ms = 0;
};

struct CompatBreak {
  std::string query;
  std::string query_source;  // "queries.sql:12" or "pg_stat_statements"
  std::string error;         // the server's message, or why the INSERT would fail
  std::string sqlstate;      // empty for the NOT NULL INSERT check
  std::string version;       // the migration that broke it
  int statement_index = -1;
  std::string file;
  int line = 0;
  std::string statement;  // the migration statement's SQL
};

struct CompatSummary {
  int queries = 0;  // old-app queries read
  int checked = 0;  // prepared on the current schema, so checked after each migration
  int skipped = 0;  // not preparable (utility statements) or already failing before
  std::vector<std::string> skipped_reasons;
};

// A new-app query (--new-queries) that fails once the pending migrations have run (online
// ones expanded).
struct NewAppFailure {
  std::string query;
  std::string source;  // "new.sql:3"
  std::string error;   // the server's message, or why the INSERT would fail
  std::string sqlstate;
};

struct NewAppSummary {
  int queries = 0;
  int checked = 0;
  int skipped = 0;  // not preparable (utility statements)
  std::vector<std::string> skipped_reasons;
  std::string search_path;  // the plans' new_app_search_path; empty: the default
};

struct VerifyReport {
  std::string shadow;                 // redacted URL, or "embedded PostgreSQL 15.x"
  std::string baseline;               // how the shadow got the current schema
  std::vector<std::string> warnings;  // things verify could not do fully
  std::vector<MigrationTrace> migrations;
  std::vector<Finding> findings;
  std::vector<CompatBreak> compat;
  CompatSummary compat_summary;
  bool new_app_checked = false;  // --new-queries given and checked
  std::vector<NewAppFailure> new_app;
  NewAppSummary new_app_summary;
  double shadow_setup_ms = 0;
  double total_ms = 0;

  // Any error-level finding, compatibility break (old or new app) or failed migration (exit 1).
  bool HasErrors() const;
};

nlohmann::json ReportToJson(const VerifyReport& report);
std::string ReportToText(const VerifyReport& report);

}  // namespace tandem::verify
