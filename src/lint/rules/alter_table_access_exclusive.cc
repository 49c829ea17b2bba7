// alter-table-access-exclusive: SET STORAGE, SET COMPRESSION, REPLICA IDENTITY, ENABLE /
// DISABLE / FORCE ROW LEVEL SECURITY, OWNER TO, RENAME CONSTRAINT and SET SCHEMA take ACCESS
// EXCLUSIVE on the table (measured on PostgreSQL 15). They change only the catalog, but the
// lock request queues behind every running query and every later query queues behind it.
// SET TABLESPACE (also ACCESS EXCLUSIVE, and a full copy) is table-rewrite-alter.
#include <regex>

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

// An identifier as written: "Quoted" keeps its case, a plain one folds to lowercase.
std::string Unquote(const std::string& word) {
  if (word.size() >= 2 && word.front() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < word.size(); ++i) {
      out += word[i];
      if (word[i] == '"') ++i;  // "" inside a quoted name
    }
    return out;
  }
  std::string out = word;
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// ALTER TABLE [IF EXISTS] [ONLY] name SET SCHEMA s: the parser's AlterObjectSchemaStmt is not
// translated into the model, so the table is read from the statement text.
bool SetSchemaTable(const std::string& text, sql::QualifiedName& table) {
  static const std::string kIdent = R"((?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*))";
  static const std::regex kSetSchema(R"(\bALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?()" +
                                         kIdent + R"()(?:\s*\.\s*()" + kIdent +
                                         R"())?\s+SET\s+SCHEMA\b)",
                                     std::regex::icase | std::regex::ECMAScript);
  std::smatch m;
  if (!std::regex_search(text, m, kSetSchema)) return false;
  if (m[2].matched) {
    table.schema = Unquote(m[1].str());
    table.name = Unquote(m[2].str());
  } else {
    table.name = Unquote(m[1].str());
  }
  return true;
}

bool IsAlterTableRenameConstraint(const std::string& text) {
  static const std::regex kRename(R"(\bALTER\s+TABLE\b[\s\S]*\bRENAME\s+CONSTRAINT\b)",
                                  std::regex::icase | std::regex::ECMAScript);
  return std::regex_search(text, kRename);
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
  } else if (st.kind == sql::StatementKind::kRenameOther && !st.relation.empty() &&
             IsAlterTableRenameConstraint(st.text)) {
    if (!ExistingTable(c)) return;
    Flag(c, st.offset, st.relation,
         "RENAME CONSTRAINT " + Ident(st.old_name) + " TO " + Ident(st.new_name), "");
  } else if (st.node == "AlterObjectSchemaStmt") {
    sql::QualifiedName table;
    if (!SetSchemaTable(st.text, table) || c.IsNewTable(table)) return;
    Flag(c, st.offset, table, "SET SCHEMA",
         "; queries that name the table without the new schema then fail");
  }
}

}  // namespace

const Rule kAlterTableAccessExclusive = {
    "alter-table-access-exclusive",
    Severity::kWarning,
    "ALTER TABLE SET STORAGE / SET COMPRESSION / REPLICA IDENTITY / ROW LEVEL SECURITY / "
    "OWNER TO / RENAME CONSTRAINT / SET SCHEMA on an existing table",
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
