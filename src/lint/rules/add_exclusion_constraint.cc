// add-exclusion-constraint: EXCLUDE builds an index under ACCESS EXCLUSIVE and cannot be added
// NOT VALID ("EXCLUDE constraints cannot be marked NOT VALID", measured): there is no online
// way on an existing table.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  if (c.statement.kind != sql::StatementKind::kAlterTable || !ExistingTable(c)) return;
  for (const auto& cmd : c.statement.cmds) {
    if (cmd.action != sql::AlterAction::kAddConstraint ||
        cmd.constraint.kind != sql::ConstraintKind::kExclusion) {
      continue;
    }
    c.Report(kAddExclusionConstraint, cmd.offset,
             "EXCLUDE constraint on " + Table(c) +
                 " builds its index under ACCESS EXCLUSIVE and cannot be added NOT VALID",
             "-- no online recipe: create a new table with the constraint, copy rows in batches,\n"
             "-- and switch over (or enforce the rule in the application)");
  }
}

}  // namespace

const Rule kAddExclusionConstraint = {
    "add-exclusion-constraint",
    Severity::kError,
    "ADD CONSTRAINT ... EXCLUDE on an existing table",
    "the index is built and checked while ACCESS EXCLUSIVE blocks all queries, and NOT VALID is "
    "rejected for EXCLUDE",
    "ACCESS EXCLUSIVE and SHARE on {table}",
    kBlocksAll,
    "all",
    "-- build a new table with the constraint and migrate the rows in batches",
    "ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH "
    "&&);",
    &Check,
};

}  // namespace tandem::lint::rules
