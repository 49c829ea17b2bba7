// Every rule of the catalog, one object per file in this folder (see rule.h for the API).
#pragma once

#include "lint/rule.h"

namespace tandem::lint::rules {

extern const Rule kAddColumnGeneratedStored;
extern const Rule kAddColumnRequired;
extern const Rule kAddColumnSerial;
extern const Rule kAddColumnVolatileDefault;
extern const Rule kAddExclusionConstraint;
extern const Rule kAddPrimaryKey;
extern const Rule kAddUniqueConstraint;
extern const Rule kAlterDomainAddConstraint;
extern const Rule kAlterTableAccessExclusive;
extern const Rule kAttachPartitionScan;
extern const Rule kBackfillOutsideBackground;
extern const Rule kChangeColumnType;
extern const Rule kConcurrentIndexOnPartitionedTable;
extern const Rule kConcurrentIndexPg14Corruption;
extern const Rule kConcurrentlyInTransaction;
extern const Rule kConstraintMissingNotValid;
extern const Rule kCreateDomainWithCheck;
extern const Rule kCreateIndexNonConcurrently;
extern const Rule kDdlAndDataInTransaction;
extern const Rule kDetachPartitionNonConcurrently;
extern const Rule kDropColumn;
extern const Rule kDropDefaultPreDeploy;
extern const Rule kDropDatabase;
extern const Rule kDropForeignKey;
extern const Rule kDropIndexNonConcurrently;
extern const Rule kDropNotNull;
extern const Rule kDropTable;
extern const Rule kDuplicateColumnAssignment;
extern const Rule kEnumValueUsedInTransaction;
extern const Rule kEnumValueWithoutPosition;
extern const Rule kForeignKeyLocksReferencedTable;
extern const Rule kForeignKeyMissingNotValid;
extern const Rule kIdentifierTooLong;
extern const Rule kNarrowColumnTypePreDeploy;
extern const Rule kNotValidValidateSameTransaction;
extern const Rule kPreferBigint;
extern const Rule kPreferIdentity;
extern const Rule kPreferJsonb;
extern const Rule kPreferTextOverChar;
extern const Rule kPreferTextOverVarchar;
extern const Rule kPreferTimestamptz;
extern const Rule kRefreshMaterializedViewNonConcurrently;
extern const Rule kReindexNonConcurrently;
extern const Rule kRenameColumn;
extern const Rule kRenameEnumValue;
extern const Rule kRenameSchema;
extern const Rule kRenameTable;
extern const Rule kSetNotNullPreDeploy;
extern const Rule kSetNotNullScan;
extern const Rule kTableRewriteAlter;
extern const Rule kTransactionControlInMigration;
extern const Rule kTriggerOnExistingTable;
extern const Rule kTruncateTable;
extern const Rule kVacuumFullOrCluster;

}  // namespace tandem::lint::rules
