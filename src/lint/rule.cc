// The rule registry, the rules the engine reports itself, and RuleContext.
#include "lint/rule.h"

#include "lint/rules/rules.h"

namespace tandem::lint {

const Rule kSyntaxErrorRule = {
    "syntax-error",
    Severity::kError,
    "a migration file that PostgreSQL 15's parser rejects",
    "the migration fails when it runs, and nothing in the file could be checked",
    "none",
    "nothing",
    "all",
    "-- fix the SQL (templated files must be rendered before linting)",
    "ALTER TABLE users ADD COLUMN;",
    nullptr,
};

const Rule kBackgroundNotBatchableRule = {
    "background-not-batchable",
    Severity::kError,
    "a background migration the worker cannot run in key ranges",
    "the worker runs a background migration one key range at a time, binding :batch_start and "
    ":batch_end; a statement without them would touch the whole table in every batch, and "
    "one without a batch directive, with several statements or with the wrong comparison cannot "
    "run at all: tandem release refuses it, or its job fails",
    "none",
    "nothing",
    "all",
    "-- tandem:phase background\n-- tandem:batch table=users key=id size=auto\n"
    "UPDATE users SET email_lower = lower(email)\n"
    " WHERE id >= :batch_start AND id < :batch_end AND email_lower IS NULL;",
    "-- tandem:phase background\nUPDATE users SET email_lower = lower(email);",
    nullptr,
};

const Rule kAllowWithoutReasonRule = {
    "allow-without-reason",
    Severity::kError,
    "a -- tandem:allow directive without a quoted reason",
    "an exception nobody can explain later is a finding ignored, not a finding accepted",
    "none",
    "nothing",
    "all",
    "-- tandem:allow rename-column \"renamed in the ORM first, see PR 123\"",
    "-- tandem:allow rename-column",
    nullptr,
};

const Rule kUnknownAllowRule = {
    "unknown-allow-rule",
    Severity::kWarning,
    "a -- tandem:allow directive naming a rule that does not exist",
    "a misspelt rule id allows nothing, so the finding it meant to accept is still reported",
    "none",
    "nothing",
    "all",
    "-- tandem:allow <one of the ids in docs/rules/>  \"reason\"",
    "-- tandem:allow rename-colum \"typo\"",
    nullptr,
};

const Rule kUnusedAllowRule = {
    "unused-allow",
    Severity::kWarning,
    "a -- tandem:allow directive that suppressed no finding in its file (file level) or its "
    "statement",
    "a stale exception hides the next real finding of that rule in the same place, and nobody "
    "remembers why it was accepted",
    "none",
    "nothing",
    "all",
    "-- remove the directive, or move it to the line right before the statement it is for",
    "-- tandem:allow drop-column \"the app ignores it since v41\"\n"
    "ALTER TABLE users ADD COLUMN plan text;",
    nullptr,
};

const std::vector<const Rule*>& AllRules() {
  static const std::vector<const Rule*> kRules = {
      &rules::kAddColumnGeneratedStored,
      &rules::kAddColumnRequired,
      &rules::kAddColumnSerial,
      &rules::kAddColumnVolatileDefault,
      &rules::kAddExclusionConstraint,
      &rules::kAddPrimaryKey,
      &rules::kAddUniqueConstraint,
      &rules::kAlterDomainAddConstraint,
      &rules::kAlterTableAccessExclusive,
      &rules::kAttachPartitionScan,
      &rules::kBackfillOutsideBackground,
      &rules::kChangeColumnType,
      &rules::kConcurrentIndexOnPartitionedTable,
      &rules::kConcurrentIndexPg14Corruption,
      &rules::kConcurrentlyInTransaction,
      &rules::kConstraintMissingNotValid,
      &rules::kCreateDomainWithCheck,
      &rules::kCreateIndexNonConcurrently,
      &rules::kDdlAndDataInTransaction,
      &rules::kDetachPartitionNonConcurrently,
      &rules::kDropColumn,
      &rules::kDropDefaultPreDeploy,
      &rules::kDropDatabase,
      &rules::kDropForeignKey,
      &rules::kDropIndexNonConcurrently,
      &rules::kDropNotNull,
      &rules::kDropTable,
      &rules::kDuplicateColumnAssignment,
      &rules::kEnumValueUsedInTransaction,
      &rules::kEnumValueWithoutPosition,
      &rules::kForeignKeyLocksReferencedTable,
      &rules::kForeignKeyMissingNotValid,
      &rules::kIdentifierTooLong,
      &rules::kNarrowColumnTypePreDeploy,
      &rules::kNotValidValidateSameTransaction,
      &rules::kPreferBigint,
      &rules::kPreferIdentity,
      &rules::kPreferJsonb,
      &rules::kPreferTextOverChar,
      &rules::kPreferTextOverVarchar,
      &rules::kPreferTimestamptz,
      &rules::kRefreshMaterializedViewNonConcurrently,
      &rules::kReindexNonConcurrently,
      &rules::kRenameColumn,
      &rules::kRenameEnumValue,
      &rules::kRenameSchema,
      &rules::kRenameTable,
      &rules::kSetNotNullPreDeploy,
      &rules::kSetNotNullScan,
      &rules::kTableRewriteAlter,
      &rules::kTransactionControlInMigration,
      &rules::kTriggerOnExistingTable,
      &rules::kTruncateTable,
      &rules::kVacuumFullOrCluster,
      &kSyntaxErrorRule,
      &kBackgroundNotBatchableRule,
      &kAllowWithoutReasonRule,
      &kUnknownAllowRule,
      &kUnusedAllowRule,
  };
  return kRules;
}

const Rule* FindRule(std::string_view id) {
  for (const Rule* rule : AllRules()) {
    if (id == rule->id) return rule;
  }
  return nullptr;
}

bool RuleContext::IsNewTable(const sql::QualifiedName& table) const {
  return created_tables_.count(TableKey(table)) > 0;
}

void RuleContext::Report(const Rule& rule, size_t offset, std::string message, std::string recipe,
                         size_t length) const {
  RawFinding f;
  f.rule = &rule;
  f.offset = offset;
  f.length = length;
  f.message = std::move(message);
  f.recipe = std::move(recipe);
  sink_.push_back(std::move(f));
}

}  // namespace tandem::lint
