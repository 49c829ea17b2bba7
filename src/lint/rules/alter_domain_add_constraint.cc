// alter-domain-add-constraint: ALTER DOMAIN ADD CONSTRAINT checks every column of the domain
// under SHARE on each table that uses it (measured). With NOT VALID there is no lock and no
// scan (measured), which squawk still flags.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind != sql::StatementKind::kAlterDomainAddConstraint || st.not_valid) return;
  c.Report(kAlterDomainAddConstraint, st.offset,
           "adding a constraint to domain " + st.relation.ToSql() +
               " scans every table that uses it while blocking writes to them",
           "ALTER DOMAIN " + st.relation.ToSql() +
               " ADD CONSTRAINT <name> CHECK (...) NOT VALID;\n"
               "-- later, separately: ALTER DOMAIN " +
               st.relation.ToSql() + " VALIDATE CONSTRAINT <name>;");
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
