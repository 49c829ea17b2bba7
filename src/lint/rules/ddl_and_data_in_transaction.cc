// ddl-and-data-in-transaction: once DDL took a strong lock on an existing table, a data change
// later in the same transaction keeps that lock for as long as the UPDATE runs (measured: the
// ACCESS EXCLUSIVE from the DDL is held during the UPDATE).
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  bool data = st.kind == sql::StatementKind::kUpdate || st.kind == sql::StatementKind::kDelete ||
              st.kind == sql::StatementKind::kInsert;
  if (!data || !c.InTransaction() || !c.transaction.locked_table) return;
  if (c.IsNewTable(st.relation)) return;  // filling a brand-new table is fine
  const auto& locked = *c.transaction.locked_table;
  RawFinding f;
  f.rule = &kDdlAndDataInTransaction;
  f.offset = st.offset;
  f.lock = "the ACCESS EXCLUSIVE taken earlier on " + locked.ToSql() + ", held until commit";
  f.message = "this data change runs in the same transaction as DDL on " + locked.ToSql() +
              ", so the DDL's lock is held until the data change finishes";
  f.recipe =
      "-- move the data change to its own migration (a background migration for "
      "backfills),\n-- or split the file with -- tandem:transaction off";
  c.Report(std::move(f));
}

}  // namespace

const Rule kDdlAndDataInTransaction = {
    "ddl-and-data-in-transaction",
    Severity::kError,
    "DDL on an existing table and a data change in one transaction",
    "the strong lock taken by the DDL stays held while the data change runs",
    "the DDL's lock (usually ACCESS EXCLUSIVE) held for the whole transaction",
    kBlocksAll,
    "all",
    "-- migration 1: the DDL; migration 2 (tandem:phase background): the batched data change",
    "ALTER TABLE users ADD COLUMN plan text;\nUPDATE users SET plan = 'free';",
    &Check,
};

}  // namespace tandem::lint::rules
