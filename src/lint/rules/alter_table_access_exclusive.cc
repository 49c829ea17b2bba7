// alter-table-access-exclusive: SET STORAGE, SET COMPRESSION, REPLICA IDENTITY, ENABLE /
// DISABLE / FORCE ROW LEVEL SECURITY, OWNER TO, RENAME CONSTRAINT and SET SCHEMA take ACCESS
// EXCLUSIVE on the table (measured on PostgreSQL 15), and so do CREATE, ALTER and DROP POLICY
// (measured in pg_locks: rules_server_test.cc). They change only the catalog, but the
// lock request queues behind every running query and every later query queues behind it.
// SET TABLESPACE (also ACCESS EXCLUSIVE, and a full copy) is table-rewrite-alter.
#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

// The clause an ALTER TABLE subcommand writes, or nullptr when it is not one of this rule's.
const char* Clause(const std::string& subtype) {
  if (subtype == "AT_SetStorage") return "SET STORAGE";
  if (subtype == "AT_SetCompression") return "SET COMPRESSION";
  if (subtype == "AT_ReplicaIdentity") return "REPLICA IDENTITY";
  if (subtype == "AT_EnableRowSecurity") return "ENABLE ROW LEVEL SECURITY";
  if (subtype == "AT_DisableRowSecurity") return "DISABLE ROW LEVEL SECURITY";
  if (subtype == "AT_ForceRowSecurity") return "FORCE ROW LEVEL SECURITY";
  if (subtype == "AT_NoForceRowSecurity") return "NO FORCE ROW LEVEL SECURITY";
  if (subtype == "AT_ChangeOwner") return "OWNER TO";
  return nullptr;
}

void Flag(const RuleContext& c, size_t offset, const sql::QualifiedName& table,
          const std::string& clause, const std::string& extra) {
  std::string t = table.ToSql();
  RawFinding f;
  f.rule = &kAlterTableAccessExclusive;
  f.offset = offset;
  f.lock = "ACCESS EXCLUSIVE on " + t;
  f.message = clause + " takes ACCESS EXCLUSIVE on " + t +
              ": brief, but it waits behind every running query on " + t +
              " and every new query waits behind it" + extra;
  f.recipe = "-- run ALTER TABLE " + t + " ... " + clause +
             " alone in a short transaction (no other statements, no data changes);\n"
             "-- tandem release bounds the wait with lock_timeout, e.g. SET LOCAL lock_timeout "
             "= '2s'";
  c.Report(std::move(f));
}

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind == sql::StatementKind::kAlterTable) {
    if (!ExistingTable(c)) return;
    for (const auto& cmd : st.cmds) {
      const char* clause = Clause(cmd.subtype);
      if (!clause) continue;
      std::string what = clause;
      if (!cmd.column.empty() &&
          (cmd.subtype == "AT_SetStorage" || cmd.subtype == "AT_SetCompression")) {
        what = "ALTER COLUMN " + Ident(cmd.column) + " " + what;
      }
      std::string extra;
      if (cmd.subtype == "AT_EnableRowSecurity" || cmd.subtype == "AT_ForceRowSecurity") {
        extra = "; without a policy, roles that do not own the table then see no rows";
      }
      Flag(c, cmd.offset, st.relation, what, extra);
    }
  } else if (st.kind == sql::StatementKind::kRenameOther && st.renames_table_constraint &&
             !st.relation.empty()) {
    if (!ExistingTable(c)) return;
    Flag(c, st.offset, st.relation,
         "RENAME CONSTRAINT " + Ident(st.old_name) + " TO " + Ident(st.new_name), "");
  } else if ((st.kind == sql::StatementKind::kCreatePolicy ||
              st.kind == sql::StatementKind::kAlterPolicy ||
              st.kind == sql::StatementKind::kDropPolicy) &&
             !st.relation.empty()) {
    if (!ExistingTable(c)) return;
    const char* verb = st.kind == sql::StatementKind::kCreatePolicy  ? "CREATE POLICY "
                       : st.kind == sql::StatementKind::kAlterPolicy ? "ALTER POLICY "
                                                                     : "DROP POLICY ";
    RawFinding f;
    f.rule = &kAlterTableAccessExclusive;
    f.offset = st.offset;
    std::string t = st.relation.ToSql();
    f.lock = "ACCESS EXCLUSIVE on " + t;
    f.message = verb + Ident(st.index_name) + " takes ACCESS EXCLUSIVE on " + t +
                ": brief, but it waits behind every running query on " + t +
                " and every new query waits behind it";
    f.recipe = "-- run " + std::string(verb) +
               "alone in a short transaction (no other statements, no data changes);\n"
               "-- tandem release bounds the wait with lock_timeout, e.g. SET LOCAL "
               "lock_timeout = '2s'";
    c.Report(std::move(f));
  } else if (st.node == "AlterObjectSchemaStmt" && !st.relation.empty()) {
    if (c.IsNewTable(st.relation)) return;
    Flag(c, st.offset, st.relation, "SET SCHEMA",
         "; queries that name the table without the new schema then fail");
  }
}

}  // namespace

const Rule kAlterTableAccessExclusive = {
    "alter-table-access-exclusive",
    Severity::kWarning,
    "ALTER TABLE SET STORAGE / SET COMPRESSION / REPLICA IDENTITY / ROW LEVEL SECURITY / "
    "OWNER TO / RENAME CONSTRAINT / SET SCHEMA, or CREATE / ALTER / DROP POLICY, on an existing "
    "table",
    "the catalog change is instant, but ACCESS EXCLUSIVE queues behind long queries and every "
    "query on the table queues behind it",
    "ACCESS EXCLUSIVE on {table}",
    kBlocksAll,
    "all (lock levels measured on 15)",
    "-- run the ALTER alone in a short transaction with lock_timeout (tandem release sets it)",
    "ALTER TABLE users REPLICA IDENTITY FULL;",
    &Check,
};

}  // namespace tandem::lint::rules
