// prefer-timestamptz: timestamp without time zone (squawk's prefer-timestamp-tz). It stores a
// wall-clock reading with no zone, so sessions with different TimeZone settings (app servers,
// psql, cron jobs) write and read different instants without an error; timestamptz stores the
// instant and shows it in the session's zone. Converting later rewrites the table unless the
// session time zone is UTC (PostgreSQL 12+, helpers.cc).
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  for (const auto& col : TypedColumns(c.statement)) {
    if (col.def->type.name != "timestamp") continue;
    sql::TypeName with_zone = col.def->type;
    with_zone.name = "timestamptz";
    c.Report(kPreferTimestamptz, col.offset,
             "column \"" + col.def->name + "\" of " + Table(c) +
                 " is timestamp without time zone; timestamptz stores the instant",
             WithType(c, col, with_zone.ToSql()));
  }
}

}  // namespace

const Rule kPreferTimestamptz = {
    "prefer-timestamptz",
    Severity::kInfo,
    "a timestamp without time zone column (CREATE TABLE, ADD COLUMN, ALTER COLUMN TYPE)",
    "the column keeps a wall-clock reading with no zone, so sessions with different TimeZone "
    "settings read and write different instants, and converting it later rewrites the table "
    "unless the session time zone is UTC",
    "none",
    "nothing",
    "all",
    "ALTER TABLE t ADD COLUMN c timestamptz;",
    "ALTER TABLE events ADD COLUMN happened_at timestamp;",
    &Check,
};

}  // namespace tandem::lint::rules
