// Findings drawn from what the shadow observed, including those only a real server can make:
//
//   table-rewrite          a table (and its indexes) rewritten under a lock, with an estimate
//                          of how long the lock would be held on the target
//   table-scan             a full scan under a lock that blocks writes (SET NOT NULL,
//                          validated constraints, CREATE INDEX)
//   index-rebuild          indexes rebuilt while their table kept its files (an ALTER TYPE
//                          the table survives, REINDEX), under the lock that really holds:
//                          ACCESS EXCLUSIVE for ALTER TYPE, where neither CONCURRENTLY nor
//                          NOT VALID applies
//   set-not-null-cheap     SET NOT NULL that did not scan: a validated CHECK proved it
//   lock-referenced-table  a foreign key added or dropped locks the table it references
//   fk-without-index       a new foreign key whose referencing columns have no index
//
// Severity follows the estimate on the target when it is reachable: a rewrite of a 100-row
// table is info, of a large one an error.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pg/connection.h"
#include "verify/report.h"
#include "verify/sizes.h"
#include "verify/tracer.h"

namespace tandem::verify {

// Collects the facts that need the shadow at a precise moment: the validated CHECKs in place
// before a SET NOT NULL, and the foreign keys each statement created or dropped.
class FindingsObserver : public TraceObserver {
 public:
  void BeforeStatement(pg::Connection& shadow, const migrate::Migration& migration,
                       int index) override;
  void AfterStatement(pg::Connection& shadow, const migrate::Migration& migration,
                      const StatementTrace& trace, const CatalogSnapshot& before,
                      const CatalogSnapshot& after, bool in_transaction) override;

  // After the last migration: the foreign keys created by the pending migrations that still
  // exist and have no index whose leading columns are the referencing columns.
  void CheckForeignKeyIndexes(pg::Connection& shadow);

  std::vector<Finding> TakeFindings() { return std::move(findings_); }
  // (version, statement index) -> the validated CHECK that made SET NOT NULL cheap.
  const std::map<std::pair<std::string, int>, std::string>& cheap_not_null() const {
    return cheap_not_null_;
  }

 private:
  struct NewForeignKey {
    Oid oid = 0;
    std::string name;
    std::string table;
    std::string version;
    int statement_index = 0;
    std::string file;
    int line = 0;
  };
  // Before the current statement: (table, column, validated CHECK name or "") per SET NOT NULL.
  std::vector<std::tuple<std::string, std::string, std::string>> pending_not_null_;
  std::map<std::pair<std::string, int>, std::string> cheap_not_null_;
  std::vector<NewForeignKey> new_foreign_keys_;
  std::vector<Finding> findings_;
};

struct SizeContext {
  const SizeMap* shadow = nullptr;  // sizes on the shadow before the pending migrations
  const SizeMap* target = nullptr;  // nullptr when no target is reachable
};

// table-rewrite, table-scan and index-rebuild findings for one traced migration. A lock the
// transaction already held from an earlier statement counts: it blocks until COMMIT.
std::vector<Finding> RiskFindings(const MigrationTrace& trace, const SizeContext& sizes);

}  // namespace tandem::verify
