// trigger-on-existing-table: CREATE TRIGGER and ENABLE/DISABLE TRIGGER take SHARE ROW
// EXCLUSIVE (blocks writes), DROP TRIGGER takes ACCESS EXCLUSIVE (measured). Brief, but they
// queue behind long transactions like any strong lock.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  bool alter_trigger = false;
  for (const auto& cmd : st.cmds) {
    alter_trigger |= cmd.action == sql::AlterAction::kEnableTrigger ||
                     cmd.action == sql::AlterAction::kDisableTrigger;
  }
  bool create = st.kind == sql::StatementKind::kCreateTrigger;
  bool drop = st.kind == sql::StatementKind::kDropTrigger;
  if ((!create && !drop && !alter_trigger) || !ExistingTable(c)) return;
  RawFinding f;
  f.rule = &kTriggerOnExistingTable;
  f.offset = st.offset;
  f.lock = (drop ? "ACCESS EXCLUSIVE on " : "SHARE ROW EXCLUSIVE on ") + Table(c);
  f.message = std::string(create ? "creating"
                          : drop ? "dropping"
                                 : "enabling or disabling") +
              " a trigger on " + Table(c) + " takes " + f.lock +
              (drop ? ", blocking all queries" : ", blocking writes") + " until commit";
  f.recipe =
      "-- keep the transaction short and the statement alone; tandem release bounds the "
      "wait with lock_timeout";
  c.Report(std::move(f));
}

}  // namespace

const Rule kTriggerOnExistingTable = {
    "trigger-on-existing-table",
    Severity::kInfo,
    "CREATE / DROP / ENABLE / DISABLE TRIGGER on an existing table",
    "the lock is brief but queues behind long transactions, and everything queues behind it",
    "SHARE ROW EXCLUSIVE on {table} (DROP TRIGGER: ACCESS EXCLUSIVE)",
    kBlocksWrites,
    "all",
    "-- run alone in a short transaction with lock_timeout (tandem release sets it)",
    "CREATE TRIGGER audit AFTER UPDATE ON users FOR EACH ROW EXECUTE FUNCTION audit();",
    &Check,
};

}  // namespace tandem::lint::rules
