// concurrent-index-pg14-corruption: PostgreSQL 14.0 to 14.3 can build corrupt indexes with
// CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY (fixed in 14.4; strong_migrations'
// add_index_corruption). With only the major version known, it is a warning.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  bool concurrent_build =
      (st.kind == sql::StatementKind::kCreateIndex || st.kind == sql::StatementKind::kReindex) &&
      st.concurrent;
  if (!concurrent_build || c.version.major != 14) return;
  if (c.version.minor >= 4) return;
  RawFinding f;
  f.rule = &kConcurrentIndexPg14Corruption;
  f.offset = st.offset;
  f.message = "concurrent index builds on PostgreSQL " + c.version.ToString() +
              " can silently corrupt the index (fixed in 14.4)";
  if (c.version.minor < 0) {
    f.severity = Severity::kWarning;
    f.message += "; the server's minor version is not known";
  }
  f.recipe =
      "-- upgrade to PostgreSQL 14.4 or later before building indexes concurrently,\n"
      "-- then check existing ones: SELECT bt_index_check(...) from amcheck";
  c.Report(std::move(f));
}

}  // namespace

const Rule kConcurrentIndexPg14Corruption = {
    "concurrent-index-pg14-corruption",
    Severity::kError,
    "CREATE INDEX / REINDEX CONCURRENTLY on PostgreSQL 14.0 to 14.3",
    "a bug in those releases can build an index that misses rows, so queries return wrong results",
    "SHARE UPDATE EXCLUSIVE on {table}",
    kBlocksSchema,
    "14.0 to 14.3 (fixed in 14.4)",
    "-- upgrade to 14.4+ first; verify indexes built earlier with amcheck",
    "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);",
    &Check,
};

}  // namespace tandem::lint::rules
