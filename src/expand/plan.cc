// The planner: the migration's statements, one operation each, into expand, backfill and
// contract steps (plan.h). Operations on one table share its successor columns, its
// dual-write trigger and its backfill statement.
#include "expand/plan.h"

#include <cctype>
#include <deque>
#include <map>
#include <set>

#include "expand/dual_write.h"
#include "pg/quote.h"
#include "sql/ast.h"
#include "sql/column_refs.h"

namespace tandem::expand {
namespace {

using pg::QuoteIdentifier;

constexpr size_t kMaxIdentifier = 63;

// A name tandem makes up, kept within PostgreSQL's 63 bytes (cut, never silently truncated by
// the server into a clash with a user name: the prefix stays).
std::string MadeName(const std::string& prefix, const std::string& name) {
  std::string out = prefix + name;
  if (out.size() > kMaxIdentifier) out.resize(kMaxIdentifier);
  return out;
}

Status Refuse(const migrate::Statement& statement, std::string message, std::string hint = "") {
  Status status = Status::InvalidInput(std::move(message)).WithLocation(statement.location);
  if (!hint.empty()) status.WithHint(std::move(hint));
  return status;
}

// The server quotes literals for us (COMMENT takes no parameters).
Result<std::string> Literal(pg::Connection& connection, const std::string& value) {
  TANDEM_ASSIGN_OR_RETURN(auto r, connection.Query("SELECT pg_catalog.quote_literal($1)", {value}));
  return r.Get(0, 0);
}

// Replaces references to map's columns in `expression` (lexically: see QualifyColumns).
std::string Rewrite(const std::string& expression, const std::map<std::string, std::string>& map);

// A changed column's successor: its name and type while both apps run.
struct Successor {
  std::string name;
  std::string type;
  const migrate::Statement* statement = nullptr;  // for errors
};

// The pieces a table's operations contribute, merged into its steps at the end.
struct TableWork {
  TableInfo info;
  std::vector<std::string> expand_sql;  // successor columns, their NOT VALID constraints
  std::vector<std::string> expand_undo;
  std::vector<ColumnPair> pairs;
  std::vector<std::string> backfill_set, backfill_where;
  std::map<std::string, Successor> successors;  // old column -> successor
  std::vector<std::string> contract_add;        // carried checks, NOT VALID, at the contract
  std::vector<Step> contract_indexes;           // CREATE INDEX CONCURRENTLY, one step each
  std::vector<std::string> contract_validate;   // VALIDATE CONSTRAINT
  std::vector<std::string> contract_final;      // the catalog-only swap
  std::vector<std::string> contract_final_end;  // after the drops (renames into place)
  std::set<std::string> touched_columns;
  std::optional<std::string> version_schema;        // type changes: the new app's view of the table
  std::map<std::string, std::string> view_columns;  // logical name -> physical successor
};

class Planner {
 public:
  Planner(pg::Connection& connection, const migrate::Migration& migration)
      : c_(connection), m_(migration) {}

  Result<Plan> Run() {
    plan_.version = m_.version;
    plan_.name = m_.name;
    if (m_.up.statements.empty()) {
      return Status::InvalidInput("online migration " + m_.version + " has no statements");
    }
    for (const migrate::Statement& statement : m_.up.statements) {
      TANDEM_ASSIGN_OR_RETURN(auto parsed, sql::ParseStatements(statement.sql));
      for (sql::Statement& s : parsed) TANDEM_RETURN_IF_ERROR(One(statement, s));
    }
    if (!m_.down_expression.empty() && !down_expression_used_) {
      return Status::InvalidInput(
                 "-- tandem:down-expression is given but no column changes its type")
          .WithHint("remove the directive");
    }
    TANDEM_RETURN_IF_ERROR(Assemble());
    return std::move(plan_);
  }

 private:
  Result<TableWork*> Table(const migrate::Statement& statement, const sql::QualifiedName& name) {
    auto info = ReadTable(c_, name.schema, name.name);
    if (!info.ok()) {
      Status s = info.status();
      return std::move(s).WithLocation(statement.location);
    }
    if (info->kind != 'r') {
      return Refuse(statement, "table " + info->qualified +
                                   " is not a plain table: online changes support plain tables");
    }
    for (TableWork& w : tables_)
      if (w.info.qualified == info->qualified) return &w;
    if (renamed_tables_.count(info->qualified)) {
      return Refuse(statement,
                    "table " + info->qualified +
                        " is renamed by this migration and changed by another statement",
                    "rename it in one online migration and change it in the next");
    }
    tables_.emplace_back();
    tables_.back().info = std::move(*info);
    return &tables_.back();
  }

  Status Touch(const migrate::Statement& statement, TableWork& w, const std::string& column) {
    if (!w.touched_columns.insert(column).second) {
      return Refuse(statement,
                    "column " + QuoteIdentifier(column) + " of " + w.info.qualified +
                        " is changed by two statements of this online migration",
                    "change it in one statement here and again in a later online migration");
    }
    return Status::Ok();
  }

  void Summary(const migrate::Statement& statement, std::string kind, std::string old_app,
               std::string new_app) {
    plan_.operations.push_back(
        {statement.sql, std::move(kind), std::move(old_app), std::move(new_app)});
  }

  Status One(const migrate::Statement& statement, sql::Statement& s) {
    using K = sql::StatementKind;
    switch (s.kind) {
      case K::kRenameColumn:
        return RenameColumn(statement, s);
      case K::kRenameTable:
        return RenameTable(statement, s);
      case K::kDropTable:
        return DropTable(statement, s);
      case K::kAlterTable:
        if (s.cmds.size() != 1) {
          return Refuse(statement, "an online ALTER TABLE must make one change",
                        "write one ALTER TABLE statement per change");
        }
        return Alter(statement, s, s.cmds.front());
      default:
        return Refuse(statement,
                      "statement " + std::string(sql::StatementKindName(s.kind)) +
                          " cannot be planned online",
                      "online migrations support RENAME COLUMN, RENAME TO, DROP TABLE and "
                      "ALTER TABLE ADD COLUMN, DROP COLUMN, ALTER COLUMN TYPE, SET NOT NULL and "
                      "ADD CONSTRAINT (unique, foreign key, check); put other statements in a "
                      "plain migration");
    }
  }

  Status Alter(const migrate::Statement& statement, const sql::Statement& s,
               const sql::AlterCmd& cmd) {
    using A = sql::AlterAction;
    switch (cmd.action) {
      case A::kDropColumn:
        return DropColumn(statement, s, cmd);
      case A::kSetNotNull:
        return SetNotNull(statement, s, cmd);
      case A::kAddConstraint:
        return AddConstraint(statement, s, cmd);
      case A::kAddColumn:
        return AddColumn(statement, s, cmd);
      case A::kAlterColumnType:
        return ChangeType(statement, s, cmd);
      default:
        return Refuse(statement, "ALTER TABLE " + cmd.subtype + " cannot be planned online",
                      "put it in a plain migration");
    }
  }

  // ---- rename table: the table takes its new name, the old name becomes a view ----
  Status RenameTable(const migrate::Statement& statement, const sql::Statement& s) {
    if (c_.server_version_num() < 150000) {
      return Refuse(statement, "an online table rename needs PostgreSQL 15 or later",
                    "views with security_invoker (which keep row-level security) came in 15");
    }
    auto info = ReadTable(c_, s.relation.schema, s.relation.name);
    if (!info.ok()) {
      Status status = info.status();
      return std::move(status).WithLocation(statement.location);
    }
    if (info->kind != 'r') {
      return Refuse(statement, "table " + info->qualified +
                                   " is not a plain table: online changes support plain tables");
    }
    for (const TableWork& other : tables_) {
      if (other.info.qualified == info->qualified) {
        return Refuse(statement,
                      "table " + info->qualified +
                          " is changed and renamed in one "
                          "migration",
                      "rename it in one online migration and change it in the next");
      }
    }
    TableWork work;
    work.info = std::move(*info);
    TableWork* w = &work;
    std::string old_q = w->info.qualified;
    std::string new_q = pg::QuoteQualified(w->info.schema, s.new_name);
    renamed_tables_.insert(old_q);
    Step step;
    step.name =
        "rename " + old_q + " to " + new_q + " and keep " + old_q + " as an updatable view of it";
    step.sql = {
        "ALTER TABLE " + old_q + " RENAME TO " + QuoteIdentifier(s.new_name),
        "CREATE VIEW " + old_q + " WITH (security_invoker = true) AS SELECT * FROM " + new_q};
    TANDEM_ASSIGN_OR_RETURN(auto grants, TableGrants(w->info));
    for (const std::string& g : grants)
      step.sql.push_back("GRANT " + g.substr(0, g.find('|')) + " ON " + old_q + " TO " +
                         g.substr(g.find('|') + 1));
    step.lock = "ACCESS EXCLUSIVE on " + old_q + ", catalog only";
    step.duration = "milliseconds";
    step.undo = {"DROP VIEW IF EXISTS " + old_q,
                 "ALTER TABLE IF EXISTS " + new_q + " RENAME TO " + QuoteIdentifier(w->info.name)};
    plan_.expand.push_back(std::move(step));
    Step drop;
    drop.name = "drop the view " + old_q;
    drop.sql = {"DROP VIEW IF EXISTS " + old_q};
    drop.lock = "ACCESS EXCLUSIVE on the view " + old_q + ", catalog only";
    drop.duration = "milliseconds";
    plan_.contract.push_back(std::move(drop));
    Summary(statement, "rename-table",
            "uses " + old_q + ", now an automatically updatable view of " + new_q +
                " (security_invoker: its privileges and row-level security apply); reads, "
                "writes, SELECT * and INSERT ... RETURNING work until the contract drops it",
            "uses " + new_q + ", the table itself; no setting needed");
    return Status::Ok();
  }

  Result<std::vector<std::string>> TableGrants(const TableInfo& info) {
    TANDEM_ASSIGN_OR_RETURN(
        auto r, c_.Query("SELECT x.privilege_type || '|' || CASE WHEN x.grantee = 0 THEN 'PUBLIC' "
                         "ELSE pg_catalog.quote_ident(r.rolname) END FROM pg_catalog.pg_class c "
                         "CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) x LEFT JOIN "
                         "pg_catalog.pg_roles r ON r.oid = x.grantee WHERE c.oid = "
                         "pg_catalog.to_regclass($1) AND "
                         "x.grantee <> c.relowner ORDER BY 1",
                         {info.qualified}));
    std::vector<std::string> out;
    for (size_t i = 0; i < r.rows(); ++i) out.push_back(r.Get(i, 0));
    return out;
  }

  // ---- drop table / drop column: deferred to the contract ----
  Status DropTable(const migrate::Statement& statement, const sql::Statement& s) {
    for (const sql::QualifiedName& name : s.objects) {
      TANDEM_ASSIGN_OR_RETURN(TableWork * w, Table(statement, name));
      if (!w->touched_columns.empty()) {
        return Refuse(statement, "table " + w->info.qualified + " is changed and dropped",
                      "drop it in its own online migration");
      }
      Step step;
      step.name = "drop table " + w->info.qualified;
      step.sql = {"DROP TABLE IF EXISTS " + w->info.qualified + (s.cascade ? " CASCADE" : "")};
      step.lock = "ACCESS EXCLUSIVE on " + w->info.qualified + ", catalog only";
      step.duration = "milliseconds";
      plan_.contract.push_back(std::move(step));
      Summary(statement, "drop-table", "keeps using " + w->info.qualified + " until the contract",
              "does not use " + w->info.qualified + "; it stays until the contract");
    }
    return Status::Ok();
  }

  Status DropColumn(const migrate::Statement& statement, const sql::Statement& s,
                    const sql::AlterCmd& cmd) {
    TANDEM_ASSIGN_OR_RETURN(TableWork * w, Table(statement, s.relation));
    TANDEM_RETURN_IF_ERROR(Touch(statement, *w, cmd.column));
    const ColumnInfo* col = w->info.Column(cmd.column);
    if (!col) return Refuse(statement, "column " + cmd.column + " does not exist");
    Step step;
    step.name = "drop column " + QuoteIdentifier(col->name) + " of " + w->info.qualified;
    step.sql = {"ALTER TABLE " + w->info.qualified + " DROP COLUMN IF EXISTS " +
                QuoteIdentifier(col->name) + (cmd.cascade ? " CASCADE" : "")};
    step.lock = "ACCESS EXCLUSIVE on " + w->info.qualified + ", catalog only";
    step.duration = "milliseconds";
    plan_.contract.push_back(std::move(step));
    std::string new_app = "does not use " + QuoteIdentifier(col->name) +
                          "; it stays until the "
                          "contract";
    if (col->not_null && col->default_sql.empty() && !col->identity) {
      new_app +=
          " (it is NOT NULL without a default: the new app must still write it until "
          "the contract, or drop the NOT NULL in an earlier migration)";
    }
    Summary(statement, "drop-column",
            "keeps reading and writing " + QuoteIdentifier(col->name) + " until the contract",
            new_app);
    return Status::Ok();
  }

  // ---- set NOT NULL: CHECK NOT VALID, VALIDATE, SET NOT NULL, drop the check ----
  Status SetNotNull(const migrate::Statement& statement, const sql::Statement& s,
                    const sql::AlterCmd& cmd) {
    TANDEM_ASSIGN_OR_RETURN(TableWork * w, Table(statement, s.relation));
    TANDEM_RETURN_IF_ERROR(Touch(statement, *w, cmd.column));
    const ColumnInfo* col = w->info.Column(cmd.column);
    if (!col) return Refuse(statement, "column " + cmd.column + " does not exist");
    const std::string& t = w->info.qualified;
    std::string c = QuoteIdentifier(col->name);
    std::string check = QuoteIdentifier(MadeName("_tandem_nn_", col->name));
    Step add;
    add.name = "add CHECK (" + c + " IS NOT NULL) NOT VALID to " + t;
    add.sql = {"ALTER TABLE " + t + " ADD CONSTRAINT " + check + " CHECK (" + c +
               " IS NOT NULL) NOT VALID"};
    add.lock = "ACCESS EXCLUSIVE on " + t + ", catalog only";
    add.duration = "milliseconds";
    add.undo = {"ALTER TABLE " + t + " DROP CONSTRAINT IF EXISTS " + check};
    Step validate;
    validate.name = "validate the check on " + t;
    validate.sql = {"ALTER TABLE " + t + " VALIDATE CONSTRAINT " + check};
    validate.lock = "SHARE UPDATE EXCLUSIVE on " + t + ": reads and writes go on";
    validate.duration = "a scan of " + t;
    validate.scan = true;
    Step set;
    set.name = "set " + c + " NOT NULL (proved by the check, no scan) and drop the check";
    set.sql = {"ALTER TABLE " + t + " ALTER COLUMN " + c + " SET NOT NULL",
               "ALTER TABLE " + t + " DROP CONSTRAINT IF EXISTS " + check};
    set.lock = "ACCESS EXCLUSIVE on " + t + ", catalog only";
    set.duration = "milliseconds";
    set.undo = {"ALTER TABLE " + t + " ALTER COLUMN " + c + " DROP NOT NULL"};
    if (col->not_null) {
      set.sql = {"ALTER TABLE " + t + " DROP CONSTRAINT IF EXISTS " + check};
      set.undo.clear();
    }
    plan_.expand.push_back(std::move(add));
    plan_.expand.push_back(std::move(validate));
    plan_.expand.push_back(std::move(set));
    Summary(statement, "set-not-null",
            "works as before, except that writing NULL into " + c +
                " is refused from the first step (the check), as the migration intends",
            "sees " + c + " NOT NULL; no setting needed");
    return Status::Ok();
  }

  // ---- add a constraint to an existing table ----
  Status AddConstraint(const migrate::Statement& statement, const sql::Statement& s,
                       const sql::AlterCmd& cmd) {
    TANDEM_ASSIGN_OR_RETURN(TableWork * w, Table(statement, s.relation));
    const sql::Constraint& con = cmd.constraint;
    const std::string& t = w->info.qualified;
    if (con.name.empty()) {
      return Refuse(statement, "an online ADD CONSTRAINT needs a constraint name",
                    "write ADD CONSTRAINT <name> ...: the validation step names it");
    }
    std::string name = QuoteIdentifier(con.name);
    using CK = sql::ConstraintKind;
    if (con.kind == CK::kForeignKey || con.kind == CK::kCheck) {
      std::string text = statement.sql;
      while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
      Step add;
      add.name = "add " + std::string(con.kind == CK::kCheck ? "check " : "foreign key ") + name +
                 " NOT VALID";
      add.sql = {con.not_valid ? text : text + " NOT VALID"};
      add.lock = con.kind == CK::kCheck ? "ACCESS EXCLUSIVE on " + t + ", catalog only"
                                        : "SHARE ROW EXCLUSIVE on " + t + " and " +
                                              con.referenced_table.ToSql() + ", catalog only";
      add.duration = "milliseconds";
      add.undo = {"ALTER TABLE " + t + " DROP CONSTRAINT IF EXISTS " + name};
      plan_.expand.push_back(std::move(add));
      if (!con.not_valid) {
        Step validate;
        validate.name = "validate " + name;
        validate.sql = {"ALTER TABLE " + t + " VALIDATE CONSTRAINT " + name};
        validate.lock =
            "SHARE UPDATE EXCLUSIVE on " + t +
            (con.kind == CK::kForeignKey ? " and ROW SHARE on " + con.referenced_table.ToSql()
                                         : std::string()) +
            ": reads and writes go on";
        validate.duration = "a scan of " + t;
        validate.scan = true;
        plan_.expand.push_back(std::move(validate));
      }
      Summary(statement, con.kind == CK::kCheck ? "add-check" : "add-foreign-key",
              "works as before; writes that break " + name + " are refused from the first step",
              "sees " + name + "; no setting needed");
      return Status::Ok();
    }
    if (con.kind == CK::kUnique) {
      if (!con.using_index.empty()) {
        return Refuse(statement, "UNIQUE USING INDEX is already the online form",
                      "put it in a plain migration");
      }
      std::string cols;
      for (const std::string& col : con.columns) {
        if (!w->info.Column(col)) return Refuse(statement, "column " + col + " does not exist");
        cols += (cols.empty() ? "" : ", ") + QuoteIdentifier(col);
      }
      Step index;
      index.name = "build the unique index " + name + " concurrently";
      index.sql = {"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS " + name + " ON " + t + " (" +
                   cols + ")"};
      index.transactional = false;
      index.lock = "SHARE UPDATE EXCLUSIVE on " + t + ": reads and writes go on";
      index.duration = "two scans of " + t;
      index.scan = true;
      index.index = pg::QuoteQualified(w->info.schema, con.name);
      index.undo = {"DROP INDEX CONCURRENTLY IF EXISTS " +
                    pg::QuoteQualified(w->info.schema, con.name)};
      index.undo_transactional = false;
      Step attach;
      attach.name = "make the index the constraint " + name;
      attach.sql = {"ALTER TABLE " + t + " ADD CONSTRAINT " + name + " UNIQUE USING INDEX " + name};
      attach.lock = "ACCESS EXCLUSIVE on " + t + ", catalog only";
      attach.duration = "milliseconds";
      attach.undo = {"ALTER TABLE " + t + " DROP CONSTRAINT IF EXISTS " + name};
      plan_.expand.push_back(std::move(index));
      plan_.expand.push_back(std::move(attach));
      Summary(statement, "add-unique",
              "works as before; duplicate writes are refused once the index is built",
              "sees " + name + "; no setting needed");
      return Status::Ok();
    }
    return Refuse(statement, "this kind of constraint cannot be added online yet",
                  "online migrations add UNIQUE, FOREIGN KEY and CHECK constraints");
  }

  // ---- add a column: catalog-only when its default is, else computed by the backfill ----
  Status AddColumn(const migrate::Statement& statement, const sql::Statement& s,
                   const sql::AlterCmd& cmd) {
    TANDEM_ASSIGN_OR_RETURN(TableWork * w, Table(statement, s.relation));
    const sql::ColumnDef& def = cmd.column_def;
    TANDEM_RETURN_IF_ERROR(Touch(statement, *w, def.name));
    for (const sql::Constraint& con : def.constraints) {
      using CK = sql::ConstraintKind;
      if (con.kind != CK::kNotNull && con.kind != CK::kNull && con.kind != CK::kDefault) {
        return Refuse(statement, "an online ADD COLUMN takes only a type, a default and NOT NULL",
                      "add constraints in their own statements (ADD CONSTRAINT), which are "
                      "planned online too");
      }
    }
    const std::string& t = w->info.qualified;
    std::string c = QuoteIdentifier(def.name);
    bool computed = def.default_kind == sql::DefaultKind::kVolatile;
    if (!computed) {
      // A constant or stable default is stored once in the catalog (PostgreSQL 11+).
      if (def.not_null && def.default_kind == sql::DefaultKind::kNone) {
        return Refuse(statement, "a NOT NULL column without a default cannot be added online",
                      "give it a default, or add it nullable and set NOT NULL once it is filled");
      }
      Step add;
      add.name = "add column " + c + " to " + t;
      add.sql = {statement.sql};
      add.lock = "ACCESS EXCLUSIVE on " + t + ", catalog only";
      add.duration = "milliseconds";
      add.undo = {"ALTER TABLE " + t + " DROP COLUMN IF EXISTS " + c};
      plan_.expand.push_back(std::move(add));
      Summary(statement, "add-column",
              "does not see " + c +
                  " in its named columns; SELECT * "
                  "returns it as an extra column",
              "sees " + c + "; no setting needed");
      return Status::Ok();
    }
    std::string type = def.type.ToSql();
    std::string check = QuoteIdentifier(MadeName("_tandem_nn_", def.name));
    w->expand_sql.push_back("ALTER TABLE " + t + " ADD COLUMN " + c + " " + type);
    w->expand_sql.push_back("ALTER TABLE " + t + " ALTER COLUMN " + c + " SET DEFAULT " +
                            def.default_sql);
    w->expand_undo.push_back("ALTER TABLE " + t + " DROP COLUMN IF EXISTS " + c);
    if (def.not_null) {
      // At the contract, not at the expand: an app's UPDATE of another column of a row the
      // backfill has not reached yet would break it (the column is NULL there until then).
      w->contract_add.push_back("ALTER TABLE " + t + " ADD CONSTRAINT " + check + " CHECK (" + c +
                                " IS NOT NULL) NOT VALID");
      w->contract_validate.push_back("ALTER TABLE " + t + " VALIDATE CONSTRAINT " + check);
      w->contract_final.push_back("ALTER TABLE " + t + " ALTER COLUMN " + c + " SET NOT NULL");
      w->contract_final.push_back("ALTER TABLE " + t + " DROP CONSTRAINT IF EXISTS " + check);
    }
    w->backfill_set.push_back(c + " = " + def.default_sql);
    w->backfill_where.push_back(c + " IS NULL");
    Summary(statement, "add-column",
            "does not see " + c + "; its inserts get the default (" + def.default_sql + ")",
            "sees " + c + ", filled for existing rows by the backfill" +
                (def.not_null ? "; NOT NULL is checked and set at the contract" : std::string()) +
                "; no setting needed");
    return Status::Ok();
  }

  // The successor of `col`: its NOT NULL, comment, grants, foreign keys, identity or owned
  // sequence, added NOT VALID or moved at the contract. Its checks and indexes (expression and
  // partial ones, and the primary key's) are carried by CarryChecksAndIndexes once every
  // successor of the table is known, so that one reading two changed columns is built once.
  // `final_default`: the successor's default (the old one, or for a type change the USING
  // expression applied to it). `new_type`: empty for a rename.
  Status CarryOver(const migrate::Statement& statement, TableWork& w, const ColumnInfo& col,
                   const std::string& successor, const std::string& final_name, bool same_type,
                   const std::string& final_default, const std::string& new_type) {
    const std::string& t = w.info.qualified;
    std::string s = QuoteIdentifier(successor);
    std::string c = QuoteIdentifier(col.name);
    w.successors[col.name] = {successor, same_type ? col.type : new_type, &statement};
    if (col.generated) {
      return Refuse(statement, "column " + c + " of " + t +
                                   " is a generated column: it cannot be carried over to a "
                                   "successor online yet");
    }
    for (const ConstraintInfo& fk : w.info.incoming_fks) {
      for (const std::string& k : fk.columns) {
        if (k == col.name) {
          return Refuse(statement,
                        "column " + c + " of " + t + " is referenced by foreign key " +
                            QuoteIdentifier(fk.name) + " of " + fk.table +
                            ": the old column cannot be dropped at the contract while it is",
                        "drop " + QuoteIdentifier(fk.name) +
                            " in a migration before this one "
                            "and add it again after the contract (online: ADD CONSTRAINT ... "
                            "FOREIGN KEY, planned NOT VALID then validated)");
        }
      }
    }
    if (!w.info.dependent_views.empty()) {
      return Refuse(statement,
                    "views read " + t + " (" + w.info.dependent_views.front() +
                        "): dropping the old column at the contract would break them",
                    "change the views in a migration of their own first");
    }
    for (const ConstraintInfo& con : w.info.constraints) {
      bool on = false;
      for (const std::string& k : con.columns) on |= k == col.name;
      if (!on) continue;
      if (con.type == 'f' && con.columns.size() == 1 && same_type) {
        // FOREIGN KEY (old) REFERENCES ... -> FOREIGN KEY (successor) REFERENCES ...
        size_t at = con.definition.find(')');
        std::string rest = at == std::string::npos ? "" : con.definition.substr(at + 1);
        std::string name = QuoteIdentifier(MadeName("_tandem_", con.name));
        w.expand_sql.push_back("ALTER TABLE " + t + " ADD CONSTRAINT " + name + " FOREIGN KEY (" +
                               s + ")" + rest + " NOT VALID");
        w.contract_validate.push_back("ALTER TABLE " + t + " VALIDATE CONSTRAINT " + name);
        w.contract_final_end.push_back("ALTER TABLE " + t + " RENAME CONSTRAINT " + name + " TO " +
                                       QuoteIdentifier(con.name));
        continue;
      }
      // Their indexes and conditions are carried by CarryChecksAndIndexes.
      if (con.type == 'u' || con.type == 'p' || con.type == 'c') continue;
      return Refuse(statement,
                    "constraint " + QuoteIdentifier(con.name) + " (" + con.definition +
                        ") reads column " + c +
                        ": carrying it to the successor is not "
                        "supported yet",
                    "drop the constraint first, and add it again after the migration");
    }
    if (col.not_null) {
      // Added at the contract, like the carried checks (CarryChecksAndIndexes says why): at the
      // expand it would reject an old app's UPDATE of another column of a row the backfill has
      // not reached (the trigger does not fire, the successor is still NULL). Until then the
      // old column's NOT NULL guards both apps' writes.
      std::string check = QuoteIdentifier(MadeName("_tandem_nn_", successor));
      w.contract_add.push_back("ALTER TABLE " + t + " ADD CONSTRAINT " + check + " CHECK (" + s +
                               " IS NOT NULL) NOT VALID");
      w.contract_validate.push_back("ALTER TABLE " + t + " VALIDATE CONSTRAINT " + check);
      w.contract_final.push_back("ALTER TABLE " + t + " ALTER COLUMN " + s + " SET NOT NULL");
      w.contract_final.push_back("ALTER TABLE " + t + " DROP CONSTRAINT IF EXISTS " + check);
    }
    if (!col.comment.empty()) {
      TANDEM_ASSIGN_OR_RETURN(std::string literal, Literal(c_, col.comment));
      w.expand_sql.push_back("COMMENT ON COLUMN " + t + "." + s + " IS " + literal);
    }
    for (const auto& [privilege, grantee] : col.grants) {
      w.expand_sql.push_back("GRANT " + privilege + " (" + s + ") ON " + t + " TO " + grantee);
    }
    if (col.identity) TANDEM_RETURN_IF_ERROR(CarryIdentity(statement, w, col, successor));
    // The successor gets no default while both apps run (the trigger derives it from the old
    // column's, see dual_write.h); the default moves over at the contract. A sequence owned by
    // the old column must move too, or dropping the column drops it.
    if (!col.default_sql.empty()) {
      TANDEM_ASSIGN_OR_RETURN(
          auto seq, c_.Query("SELECT pg_catalog.pg_get_serial_sequence($1, $2)", {t, col.name}));
      if (!seq.IsNull(0, 0)) {
        w.contract_final.push_back("ALTER SEQUENCE " + seq.Get(0, 0) + " OWNED BY " + t + "." + s);
        // A serial's sequence is of the column's type: int -> bigint must widen it too, or
        // nextval still stops at 2^31 - 1.
        if (!same_type && (new_type == "smallint" || new_type == "integer" || new_type == "int" ||
                           new_type == "bigint")) {
          w.contract_final.push_back("ALTER SEQUENCE " + seq.Get(0, 0) + " AS " + new_type);
        }
      }
      w.contract_final_end.push_back("ALTER TABLE " + t + " ALTER COLUMN " +
                                     QuoteIdentifier(final_name) + " SET DEFAULT " + final_default);
    }
    return Status::Ok();
  }

  // An identity column: while both apps run the old column keeps its identity (both apps'
  // inserts get a value from it: the new app's through the trigger, which copies it to the
  // successor). An identity's sequence belongs to its column and cannot be given to another
  // (ALTER SEQUENCE OWNED BY refuses), so at the contract the successor gets an identity of its
  // own, of the same kind and increment, set to where the old one stands (no insert runs: the
  // table is locked), and takes the old sequence's name once the old column has dropped it.
  Status CarryIdentity(const migrate::Statement& statement, TableWork& w, const ColumnInfo& col,
                       const std::string& successor) {
    const std::string& t = w.info.qualified;
    TANDEM_ASSIGN_OR_RETURN(
        auto seq,
        c_.Query("SELECT n.nspname, c.relname, s.seqincrement FROM pg_catalog.pg_sequence s "
                 "JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid JOIN pg_catalog.pg_namespace n "
                 "ON n.oid = c.relnamespace WHERE s.seqrelid = "
                 "pg_catalog.pg_get_serial_sequence($1, $2)::regclass",
                 {t, col.name}));
    if (seq.rows() != 1) {
      return Refuse(statement, "the identity sequence of column " + QuoteIdentifier(col.name) +
                                   " of " + t + " was not found");
    }
    std::string old_seq = pg::QuoteQualified(seq.Get(0, 0), seq.Get(0, 1));
    std::string new_seq = pg::QuoteQualified(seq.Get(0, 0), MadeName("_tandem_", seq.Get(0, 1)));
    TANDEM_ASSIGN_OR_RETURN(std::string new_seq_literal, Literal(c_, new_seq));
    w.contract_final.push_back(
        "ALTER TABLE " + t + " ALTER COLUMN " + QuoteIdentifier(successor) + " ADD GENERATED " +
        (col.identity_kind == 'd' ? "BY DEFAULT" : "ALWAYS") + " AS IDENTITY (SEQUENCE NAME " +
        new_seq + " INCREMENT BY " + seq.Get(0, 2) + ")");
    w.contract_final.push_back("SELECT pg_catalog.setval(" + new_seq_literal +
                               "::regclass, s.last_value, s.is_called) FROM " + old_seq + " s");
    w.contract_final_end.push_back("ALTER SEQUENCE " + new_seq + " RENAME TO " +
                                   QuoteIdentifier(seq.Get(0, 1)));
    return Status::Ok();
  }

  // `expressions` (over the table's columns, successors included) type-checked against the
  // table with each successor of its type, without reading a row: a check or index expression
  // that does not apply to a column's new type is refused at plan time, not at the contract.
  Status CheckCarried(TableWork& w, const migrate::Statement& statement, const std::string& what,
                      const std::vector<std::string>& expressions) {
    std::string columns, list;
    for (const auto& [old_name, succ] : w.successors) {
      columns += ", NULL::" + succ.type + " AS " + QuoteIdentifier(succ.name);
    }
    for (const std::string& e : expressions) list += (list.empty() ? "" : ", ") + ("(" + e + ")");
    if (list.empty()) return Status::Ok();
    Status status = c_.Exec("SELECT " + list + " FROM (SELECT *" + columns + " FROM " +
                            w.info.qualified + ") _tandem_s LIMIT 0");
    if (!status.ok()) {
      return Refuse(statement,
                    what + " cannot be carried over to the successor: " + status.message(),
                    "drop it in a migration before this one and create it again after the "
                    "contract");
    }
    return Status::Ok();
  }

  // Checks and indexes that read a changed column, rebuilt on the successors: the column
  // references of their expressions renamed by the parser's positions (sql/column_refs.h).
  Status CarryChecksAndIndexes(TableWork& w) {
    if (w.successors.empty()) return Status::Ok();
    const std::string& t = w.info.qualified;
    auto renames_of = [&](const std::vector<std::string>& columns,
                          const migrate::Statement** statement) {
      std::map<std::string, std::string> renames;
      for (const std::string& k : columns) {
        auto it = w.successors.find(k);
        if (it == w.successors.end()) continue;
        renames[k] = it->second.name;
        *statement = it->second.statement;
      }
      return renames;
    };
    // Checks are added NOT VALID at the contract, not at the expand: while both apps run, a
    // row's successor is NULL until the backfill reaches it, and a check such as
    // coalesce(name, '') <> '' would then reject an old app's UPDATE of another column (which
    // does not fire the trigger); for a type change, the check of the new type can reject a
    // value the old app wrote (numeric 0.4 passes price > 0, its integer successor 0 does not).
    // The original check on the old column keeps guarding both apps' writes until then (the
    // new app's through the trigger's write of the old column). At the contract the old app is
    // gone and every row is filled: the carried check is added, validated by a scan that blocks
    // no writes, and takes the original's name once the old column has taken that one away.
    for (const ConstraintInfo& con : w.info.constraints) {
      if (con.type != 'c') continue;
      const migrate::Statement* statement = nullptr;
      auto renames = renames_of(con.columns, &statement);
      if (renames.empty()) continue;
      std::string what = "check constraint " + QuoteIdentifier(con.name);
      auto expr = sql::RenameColumnRefs(con.expression, renames);
      if (!expr.ok()) return Refuse(*statement, what + ": " + expr.status().message());
      TANDEM_RETURN_IF_ERROR(CheckCarried(w, *statement, what, {*expr}));
      std::string name = QuoteIdentifier(MadeName("_tandem_", con.name));
      w.contract_add.push_back("ALTER TABLE " + t + " ADD CONSTRAINT " + name + " CHECK (" + *expr +
                               ") NOT VALID");
      if (con.validated) {
        w.contract_validate.push_back("ALTER TABLE " + t + " VALIDATE CONSTRAINT " + name);
      }
      w.contract_final_end.push_back("ALTER TABLE " + t + " RENAME CONSTRAINT " + name + " TO " +
                                     QuoteIdentifier(con.name));
    }
    for (const IndexInfo& index : w.info.indexes) {
      std::vector<std::string> read = index.referenced;
      for (const IndexKey& k : index.keys) read.push_back(k.column);
      for (const std::string& k : index.include) read.push_back(k);
      const migrate::Statement* statement = nullptr;
      auto renames = renames_of(read, &statement);
      if (renames.empty()) continue;
      std::string what = "index " + QuoteIdentifier(index.name);
      auto column = [&](const std::string& name) {
        auto it = renames.find(name);
        return QuoteIdentifier(it == renames.end() ? name : it->second);
      };
      std::vector<std::string> expressions;
      std::string keys;
      for (const IndexKey& k : index.keys) {
        std::string key;
        if (k.column.empty()) {
          auto expr = sql::RenameColumnRefs(k.expression, renames);
          if (!expr.ok()) return Refuse(*statement, what + ": " + expr.status().message());
          expressions.push_back(*expr);
          key = *expr;
        } else {
          key = column(k.column);
        }
        if (!k.collation.empty()) key += " COLLATE " + k.collation;
        if (!k.opclass.empty()) key += " " + k.opclass;
        bool desc = k.option & 1, nulls_first = k.option & 2;
        if (desc) key += " DESC";
        if (desc && !nulls_first) key += " NULLS LAST";
        if (!desc && nulls_first) key += " NULLS FIRST";
        keys += (keys.empty() ? "" : ", ") + key;
      }
      std::string include;
      for (const std::string& k : index.include)
        include += (include.empty() ? "" : ", ") + column(k);
      std::string predicate;
      if (!index.predicate.empty()) {
        auto expr = sql::RenameColumnRefs(index.predicate, renames);
        if (!expr.ok()) return Refuse(*statement, what + ": " + expr.status().message());
        expressions.push_back(*expr);
        predicate = *expr;
      }
      TANDEM_RETURN_IF_ERROR(CheckCarried(w, *statement, what, expressions));
      std::string name = MadeName("_tandem_", index.name);
      Step build;
      build.name = "build index " + QuoteIdentifier(name) + " on the successor concurrently";
      build.sql = {std::string("CREATE ") + (index.unique ? "UNIQUE " : "") +
                   "INDEX CONCURRENTLY IF NOT EXISTS " + QuoteIdentifier(name) + " ON " + t +
                   " USING " + index.method + " (" + keys + ")" +
                   (include.empty() ? "" : " INCLUDE (" + include + ")") +
                   (index.reloptions.empty() ? "" : " WITH (" + index.reloptions + ")") +
                   (predicate.empty() ? "" : " WHERE " + predicate)};
      build.transactional = false;
      build.lock = "SHARE UPDATE EXCLUSIVE on " + t + ": reads and writes go on";
      build.duration = "two scans of " + t;
      build.scan = true;
      build.index = pg::QuoteQualified(w.info.schema, name);
      w.contract_indexes.push_back(std::move(build));
      // The old index went with the old column; a constraint's index becomes the constraint
      // again (catalog only: the successor is NOT NULL by then, proved by its valid check).
      if (index.primary) {
        w.contract_final_end.push_back("ALTER TABLE " + t + " ADD CONSTRAINT " +
                                       QuoteIdentifier(index.name) + " PRIMARY KEY USING INDEX " +
                                       QuoteIdentifier(name));
      } else if (index.constraint) {
        w.contract_final_end.push_back("ALTER TABLE " + t + " ADD CONSTRAINT " +
                                       QuoteIdentifier(index.name) + " UNIQUE USING INDEX " +
                                       QuoteIdentifier(name));
      } else {
        w.contract_final_end.push_back("ALTER INDEX " + pg::QuoteQualified(w.info.schema, name) +
                                       " RENAME TO " + QuoteIdentifier(index.name));
      }
    }
    return Status::Ok();
  }

  // ---- rename column: a successor under the new name, kept in step by the trigger ----
  Status RenameColumn(const migrate::Statement& statement, const sql::Statement& s) {
    TANDEM_ASSIGN_OR_RETURN(TableWork * w, Table(statement, s.relation));
    TANDEM_RETURN_IF_ERROR(Touch(statement, *w, s.old_name));
    TANDEM_RETURN_IF_ERROR(Touch(statement, *w, s.new_name));
    const ColumnInfo* col = w->info.Column(s.old_name);
    if (!col) {
      return Refuse(statement,
                    "column " + s.old_name + " of " + w->info.qualified + " does not exist");
    }
    if (w->info.Column(s.new_name)) {
      return Refuse(statement,
                    "column " + s.new_name + " of " + w->info.qualified + " already exists");
    }
    const std::string& t = w->info.qualified;
    std::string o = QuoteIdentifier(col->name), n = QuoteIdentifier(s.new_name);
    w->expand_sql.push_back("ALTER TABLE " + t + " ADD COLUMN " + n + " " + col->type);
    w->expand_undo.push_back("ALTER TABLE " + t + " DROP COLUMN IF EXISTS " + n);
    TANDEM_RETURN_IF_ERROR(
        CarryOver(statement, *w, *col, s.new_name, s.new_name, true, col->default_sql, ""));
    w->pairs.push_back({col->name, s.new_name, "NEW." + o, "NEW." + n});
    w->backfill_set.push_back(n + " = " + o);
    w->backfill_where.push_back(n + " IS DISTINCT FROM " + o);
    w->contract_final.push_back("ALTER TABLE " + t + " DROP COLUMN IF EXISTS " + o);
    Summary(statement, "rename-column",
            "reads and writes " + o + " as before (SELECT * also returns " + n +
                "); the trigger copies its writes to " + n,
            "reads and writes " + n + " in " + t + " (SELECT * also returns " + o +
                " until the contract); the trigger copies its writes to " + o +
                "; no setting needed");
    return Status::Ok();
  }

  // ---- change type: a successor of the new type, seen by the new app through a view ----
  Status ChangeType(const migrate::Statement& statement, const sql::Statement& s,
                    const sql::AlterCmd& cmd) {
    TANDEM_ASSIGN_OR_RETURN(TableWork * w, Table(statement, s.relation));
    TANDEM_RETURN_IF_ERROR(Touch(statement, *w, cmd.column));
    const ColumnInfo* col = w->info.Column(cmd.column);
    if (!col) return Refuse(statement, "column " + cmd.column + " does not exist");
    if (c_.server_version_num() < 150000) {
      return Refuse(statement, "an online type change needs PostgreSQL 15 or later",
                    "views with security_invoker (which keep row-level security) came in 15");
    }
    const std::string& t = w->info.qualified;
    std::string successor = MadeName("_tandem_new_", col->name);
    std::string o = QuoteIdentifier(col->name), n = QuoteIdentifier(successor);
    std::string type = cmd.column_def.type.ToSql();
    // USING <expr>, as written after the type.
    std::string using_sql;
    const std::string& after = cmd.column_def.after_type_sql;
    size_t u = 0;
    while (u < after.size() && std::isspace(static_cast<unsigned char>(after[u]))) ++u;
    if (after.size() >= u + 5) {
      std::string word = after.substr(u, 5);
      for (char& ch : word) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (word == "using") using_sql = after.substr(u + 5);
    }
    while (!using_sql.empty() && std::isspace(static_cast<unsigned char>(using_sql.back())))
      using_sql.pop_back();
    if (using_sql.empty()) using_sql = o + "::" + type;
    std::string down = m_.down_expression;
    if (down.empty()) {
      if (cmd.has_using && !cmd.using_is_column) {
        return Refuse(statement,
                      "the old app's writes need the reverse of USING " + using_sql +
                          ", which tandem cannot derive",
                      "give it with -- tandem:down-expression <the old value in terms of " +
                          col->name + " of the new type>, e.g. -- tandem:down-expression " +
                          col->name + "::" + col->type);
      }
      down = o + "::" + col->type;  // a plain cast back
    } else {
      down_expression_used_ = true;
    }
    std::vector<std::string> names;
    for (const ColumnInfo& ci : w->info.columns) names.push_back(ci.name);
    std::map<std::string, std::string> forward_map, backward_map, backfill_map;
    for (const std::string& name : names) {
      forward_map[name] = "NEW." + QuoteIdentifier(name);
      backfill_map[name] = QuoteIdentifier(name);
    }
    backward_map[col->name] = "NEW." + n;  // the down expression reads the new value
    std::string forward = Rewrite(using_sql, forward_map);
    std::string backward = Rewrite(down, backward_map);
    std::string fill = Rewrite(using_sql, backfill_map);
    w->expand_sql.push_back("ALTER TABLE " + t + " ADD COLUMN " + n + " " + type);
    w->expand_undo.push_back("ALTER TABLE " + t + " DROP COLUMN IF EXISTS " + n);
    std::string new_default = col->default_sql.empty()
                                  ? ""
                                  : Rewrite(using_sql, {{col->name, "(" + col->default_sql + ")"}});
    TANDEM_RETURN_IF_ERROR(
        CarryOver(statement, *w, *col, successor, col->name, false, new_default, type));
    w->pairs.push_back({col->name, successor, forward, backward});
    w->backfill_set.push_back(n + " = " + fill);
    w->backfill_where.push_back(n + " IS DISTINCT FROM (" + fill + ")");
    w->contract_final.push_back("ALTER TABLE " + t + " DROP COLUMN IF EXISTS " + o);
    w->contract_final_end.insert(w->contract_final_end.begin(),
                                 "ALTER TABLE " + t + " RENAME COLUMN " + n + " TO " + o);
    w->version_schema = MadeName("tandem_v", m_.version);
    w->view_columns[col->name] = successor;
    Summary(statement, "change-column-type",
            "reads and writes " + o + " (" + col->type + ") in " + t + " as before",
            "sees " + o + " as " + type + " through the view " +
                pg::QuoteQualified(*w->version_schema, w->info.name) +
                ": its connections need the search_path printed below");
    return Status::Ok();
  }

  Status Assemble() {
    for (TableWork& w : tables_) {
      TANDEM_RETURN_IF_ERROR(CarryChecksAndIndexes(w));
      const std::string& t = w.info.qualified;
      std::string dw = MadeName("_tandem_dw_", w.info.name);
      DualWriteSpec spec{w.info.schema, w.info.name, dw, dw, w.pairs};
      spec.server_version_num = c_.server_version_num();
      if (!w.expand_sql.empty() || !w.pairs.empty()) {
        Step step;
        step.name = "add successor columns" +
                    std::string(w.pairs.empty() ? "" : " and the dual-write trigger") + " to " + t;
        step.sql = w.expand_sql;
        if (!w.pairs.empty()) {
          TANDEM_RETURN_IF_ERROR(CheckDualWriteSpec(spec));
          for (std::string& s : CreateDualWriteSql(spec)) step.sql.push_back(std::move(s));
        }
        step.lock = "ACCESS EXCLUSIVE on " + t + ", catalog only";
        step.duration = "milliseconds";
        if (!w.pairs.empty()) step.undo = DropDualWriteSql(spec);
        for (const std::string& u : w.expand_undo) step.undo.push_back(u);
        plan_.expand.push_back(std::move(step));
      }
      if (w.version_schema) TANDEM_RETURN_IF_ERROR(VersionSchema(w));
      if (!w.backfill_set.empty()) {
        if (plan_.backfill) {
          return Status::InvalidInput("online migration " + m_.version +
                                      " needs backfills of two tables (" + plan_.backfill->table +
                                      " and " + t + ")")
              .WithHint("split it into one online migration per table");
        }
        std::string set, where;
        for (const std::string& s : w.backfill_set) set += (set.empty() ? "" : ", ") + s;
        for (const std::string& s : w.backfill_where) where += (where.empty() ? "" : " OR ") + s;
        plan_.backfill = Backfill{t, "UPDATE " + t + " SET " + set +
                                         " WHERE ctid >= :batch_start AND ctid < :batch_end AND (" +
                                         where + ")"};
        // The backfill's block ranges are read when it starts: a row an app UPDATE moved past
        // them (changing only other columns, so the trigger did not fire) was never visited.
        // One idempotent pass finds those before anything is dropped.
        Step catch_up;
        catch_up.name = "fill the rows the backfill's block ranges missed in " + t;
        catch_up.sql = {"UPDATE " + t + " SET " + set + " WHERE " + where};
        catch_up.lock = "ROW EXCLUSIVE on " + t + " and the rows it fills: reads and writes go on";
        catch_up.duration = "a scan of " + t;
        catch_up.scan = true;
        plan_.contract.push_back(std::move(catch_up));
      }
      if (!w.contract_add.empty()) {
        Step add;
        add.name = "add the checks of the successors of " + t + " NOT VALID";
        add.sql = w.contract_add;
        add.lock = "ACCESS EXCLUSIVE on " + t + ", catalog only";
        add.duration = "milliseconds";
        plan_.contract.push_back(std::move(add));
      }
      for (Step& s : w.contract_indexes) plan_.contract.push_back(std::move(s));
      if (!w.contract_validate.empty()) {
        Step validate;
        validate.name = "validate the successor constraints on " + t;
        validate.sql = w.contract_validate;
        validate.lock = "SHARE UPDATE EXCLUSIVE on " + t + ": reads and writes go on";
        validate.duration = "a scan of " + t;
        validate.scan = true;
        plan_.contract.push_back(std::move(validate));
      }
      if (!w.pairs.empty() || !w.contract_final.empty() || !w.contract_final_end.empty()) {
        Step swap;
        swap.name = "drop the trigger and the old columns of " + t + ", successors in place";
        if (!w.pairs.empty()) swap.sql = DropDualWriteSql(spec);
        if (w.version_schema) {
          swap.sql.push_back("DROP SCHEMA IF EXISTS " + QuoteIdentifier(*w.version_schema) +
                             " CASCADE");
        }
        for (const std::string& s : w.contract_final) swap.sql.push_back(s);
        for (const std::string& s : w.contract_final_end) swap.sql.push_back(s);
        swap.lock = "ACCESS EXCLUSIVE on " + t + ", catalog only";
        swap.duration = "milliseconds";
        plan_.contract.push_back(std::move(swap));
      }
    }
    return Status::Ok();
  }

  // The new app's view of a table whose column changes type: the successor under the old name.
  Status VersionSchema(TableWork& w) {
    const std::string& t = w.info.qualified;
    std::string schema = QuoteIdentifier(*w.version_schema);
    std::string view = pg::QuoteQualified(*w.version_schema, w.info.name);
    std::string list;
    for (const ColumnInfo& col : w.info.columns) {
      auto it = w.view_columns.find(col.name);
      std::string expr = it == w.view_columns.end()
                             ? QuoteIdentifier(col.name)
                             : QuoteIdentifier(it->second) + " AS " + QuoteIdentifier(col.name);
      list += (list.empty() ? "" : ", ") + expr;
    }
    Step step;
    step.name = "create the new app's view " + view;
    step.sql = {"CREATE SCHEMA IF NOT EXISTS " + schema,
                "CREATE OR REPLACE VIEW " + view + " WITH (security_invoker = true) AS SELECT " +
                    list + " FROM " + t};
    // USAGE for every role that may use the table.
    TANDEM_ASSIGN_OR_RETURN(auto grants, TableGrants(w.info));
    std::set<std::string> grantees;
    for (const std::string& g : grants) {
      step.sql.push_back("GRANT " + g.substr(0, g.find('|')) + " ON " + view + " TO " +
                         g.substr(g.find('|') + 1));
      grantees.insert(g.substr(g.find('|') + 1));
    }
    for (const std::string& g : grantees)
      step.sql.push_back("GRANT USAGE ON SCHEMA " + schema + " TO " + g);
    for (const ColumnInfo& col : w.info.columns) {
      if (w.view_columns.count(col.name) || col.default_sql.empty() || col.identity) continue;
      step.sql.push_back("ALTER VIEW " + view + " ALTER COLUMN " + QuoteIdentifier(col.name) +
                         " SET DEFAULT " + col.default_sql);
    }
    step.lock = "ACCESS SHARE on " + t + ", catalog only";
    step.duration = "milliseconds";
    step.undo = {"DROP SCHEMA IF EXISTS " + schema + " CASCADE"};
    plan_.expand.push_back(std::move(step));
    plan_.new_app_search_path = schema + ", " + QuoteIdentifier(w.info.schema);
    return Status::Ok();
  }

  pg::Connection& c_;
  const migrate::Migration& m_;
  Plan plan_;
  std::deque<TableWork> tables_;
  std::set<std::string> renamed_tables_;
  bool down_expression_used_ = false;
};

bool IdentChar(char ch) {
  return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '$' ||
         static_cast<unsigned char>(ch) >= 0x80;
}

std::string Rewrite(const std::string& e, const std::map<std::string, std::string>& map) {
  std::string out;
  size_t i = 0;
  while (i < e.size()) {
    char ch = e[i];
    if (ch == '\'') {  // a string literal, '' inside
      size_t j = i + 1;
      while (j < e.size()) {
        if (e[j] == '\'' && j + 1 < e.size() && e[j + 1] == '\'') {
          j += 2;
          continue;
        }
        if (e[j] == '\'') break;
        ++j;
      }
      out += e.substr(i, j + 1 - i);
      i = j + 1;
      continue;
    }
    bool quoted = ch == '"';
    if (quoted || (IdentChar(ch) && !std::isdigit(static_cast<unsigned char>(ch)))) {
      size_t j = i;
      std::string name;
      if (quoted) {
        j = i + 1;
        while (j < e.size()) {
          if (e[j] == '"' && j + 1 < e.size() && e[j + 1] == '"') {
            name += '"';
            j += 2;
            continue;
          }
          if (e[j] == '"') break;
          name += e[j++];
        }
        ++j;
      } else {
        while (j < e.size() && IdentChar(e[j])) ++j;
        name = e.substr(i, j - i);
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      std::string word = e.substr(i, j - i);
      // Not a column: qualified (x.col), a type after ::, or a function name before (.
      size_t before = out.find_last_not_of(" \t\n");
      bool after_dot = before != std::string::npos && out[before] == '.';
      bool after_cast = before != std::string::npos && before >= 1 && out[before] == ':' &&
                        out[before - 1] == ':';
      size_t next = e.find_first_not_of(" \t\n", j);
      bool call = next != std::string::npos && e[next] == '(';
      auto it = map.find(name);
      if (it != map.end() && !after_dot && !after_cast && !call) {
        out += it->second;
      } else {
        out += word;
      }
      i = j;
      continue;
    }
    out += ch;
    ++i;
  }
  return out;
}

}  // namespace

std::string QualifyColumns(const std::string& expression, const std::vector<std::string>& columns,
                           const std::string& prefix) {
  std::map<std::string, std::string> map;
  for (const std::string& c : columns) map[c] = prefix + "." + QuoteIdentifier(c);
  return Rewrite(expression, map);
}

Result<Plan> PlanMigration(pg::Connection& connection, const migrate::Migration& migration) {
  Planner planner(connection, migration);
  auto plan = planner.Run();
  if (!plan.ok()) {
    Status status = plan.status();
    return std::move(status).Prefix("could not plan online migration " + migration.version);
  }
  return plan;
}

}  // namespace tandem::expand
