// alter-domain-add-constraint: ALTER DOMAIN ADD CONSTRAINT checks every column of the domain
// under SHARE on each table that uses it (measured). With NOT VALID there is no lock and no
// scan (measured), which squawk still flags. Unlike a table's, a domain's VALIDATE CONSTRAINT
// takes SHARE too (measured), so validating later still blocks writes while it scans: the
// recipe says so, and offers table CHECK constraints, whose VALIDATE lets writes go on.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kAlterDomainAddConstraint || st.not_valid) return;
  c.Report(
      kAlterDomainAddConstraint, st.offset,
      "adding a constraint to domain " + st.relation.ToSql() +
          " scans every table that uses it while blocking writes to them",
      "ALTER DOMAIN " + st.relation.ToSql() +
          " ADD CONSTRAINT <name> CHECK (...) NOT VALID;\n"
          "-- new values are checked from now on; validating the old ones takes SHARE on\n"
          "-- every table using the domain (writes wait while it scans), so run it at a\n"
          "-- quiet time: ALTER DOMAIN " +
          st.relation.ToSql() +
          " VALIDATE CONSTRAINT <name>;\n"
          "-- or check each column with a table constraint, whose VALIDATE lets writes go on:\n"
          "-- ALTER TABLE <table> ADD CONSTRAINT <name> CHECK (<column> ...) NOT VALID;");
}

}  // namespace

const Rule kAlterDomainAddConstraint = {
    "alter-domain-add-constraint",
    Severity::kError,
    "ALTER DOMAIN ... ADD CONSTRAINT without NOT VALID",
    "every table using the domain is scanned while writes to it are blocked",
    "SHARE on every table with a column of the domain",
    kBlocksWrites,
    "all",
    "ALTER DOMAIN d ADD CONSTRAINT c CHECK (...) NOT VALID;\nALTER DOMAIN d VALIDATE CONSTRAINT c;",
    "ALTER DOMAIN positive_int ADD CONSTRAINT positive CHECK (VALUE > 0);",
    &Check,
};

}  // namespace tandem::lint::rules
