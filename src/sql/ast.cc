// Translation of libpg_query's parse tree into tandem's statement model (see ast.h). The text is
// parsed in pieces of whole statements (ParseToJsonInPieces), each RawStmt with its location in
// its piece. The JSON is
// read with RapidJSON (why, and the member accessors used here: ast_expr.h).
#include "sql/ast.h"

#include <cctype>

#include "sql/ast_expr.h"
#include "sql/parser.h"

namespace tandem::sql {
namespace {

using internal::BoolField;
using internal::Child;
using internal::Elements;
using internal::Has;
using internal::IntField;
using internal::Json;
using internal::NameList;
using internal::RangeVarName;
using internal::StringField;
using internal::StringValue;
using internal::Unwrap;

size_t Offset(const Json& node) {
  if (!node.IsObject()) return 0;
  int location = IntField(node, "location", -1);
  return location < 0 ? 0 : static_cast<size_t>(location);
}

// A boolean option as PostgreSQL's defGetBoolean reads it: no argument is true; 0/1, and
// true/false/on/off/yes/no (or a unique prefix of them) otherwise. VACUUM (FULL FALSE) is a
// plain VACUUM.
bool DefElemBool(const Json& def) {
  const Json& arg = Child(def, "arg");
  if (!arg.IsObject()) return true;
  if (Has(arg, "Integer")) return IntField(Child(arg, "Integer"), "ival", 0) != 0;
  std::string value = StringValue(arg);
  if (value.empty() && Has(arg, "A_Const")) return true;
  for (auto& ch : value) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (value == "0" || value == "off" || value == "of") return false;
  if (!value.empty() &&
      (std::string_view("false").starts_with(value) || std::string_view("no").starts_with(value))) {
    return false;
  }
  return true;
}

Constraint TranslateConstraint(const Json& body, std::string_view text) {
  Constraint c;
  std::string_view type = StringField(body, "contype");
  if (type == "CONSTR_CHECK")
    c.kind = ConstraintKind::kCheck;
  else if (type == "CONSTR_FOREIGN")
    c.kind = ConstraintKind::kForeignKey;
  else if (type == "CONSTR_UNIQUE")
    c.kind = ConstraintKind::kUnique;
  else if (type == "CONSTR_PRIMARY")
    c.kind = ConstraintKind::kPrimaryKey;
  else if (type == "CONSTR_EXCLUSION")
    c.kind = ConstraintKind::kExclusion;
  else if (type == "CONSTR_NOTNULL")
    c.kind = ConstraintKind::kNotNull;
  else if (type == "CONSTR_NULL")
    c.kind = ConstraintKind::kNull;
  else if (type == "CONSTR_DEFAULT")
    c.kind = ConstraintKind::kDefault;
  else if (type == "CONSTR_IDENTITY")
    c.kind = ConstraintKind::kIdentity;
  else if (type == "CONSTR_GENERATED")
    c.kind = ConstraintKind::kGenerated;
  c.name = StringField(body, "conname");
  c.offset = Offset(body);
  c.not_valid = BoolField(body, "skip_validation");
  c.using_index = StringField(body, "indexname");
  if (c.kind == ConstraintKind::kForeignKey) {
    c.columns = NameList(Child(body, "fk_attrs"));
    c.referenced_table = RangeVarName(Child(body, "pktable"));
    c.referenced_columns = NameList(Child(body, "pk_attrs"));
  } else {
    c.columns = NameList(Child(body, "keys"));
  }
  if (c.kind == ConstraintKind::kCheck) {
    internal::CollectColumnRefs(Child(body, "raw_expr"), c.columns);
    c.not_null_column = internal::NotNullCheckColumn(Child(body, "raw_expr"));
    if (IntField(body, "location", -1) >= 0)
      c.check_sql = internal::ParenthesizedAt(text, c.offset);
  }
  return c;
}

// What follows the type in a column definition, as written (ColumnDef::after_type_sql).
std::string AfterType(const Json& type_name, std::string_view text) {
  int location = IntField(type_name, "location", -1);
  if (location < 0) return "";
  auto ends = internal::ColumnDefinitionEnds(text, static_cast<size_t>(location));
  std::string_view rest = text.substr(ends.type_end, ends.end - ends.type_end);
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front())))
    rest.remove_prefix(1);
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back())))
    rest.remove_suffix(1);
  return std::string(rest);
}

ColumnDef TranslateColumn(const Json& body, std::string_view text) {
  ColumnDef col;
  col.name = StringField(body, "colname");
  col.offset = Offset(body);
  col.type = internal::TranslateTypeName(Child(body, "typeName"));
  col.after_type_sql = AfterType(Child(body, "typeName"), text);
  for (const Json& node : Elements(Child(body, "constraints"))) {
    auto [name, inner] = Unwrap(node);
    if (name != "Constraint") continue;
    Constraint c = TranslateConstraint(*inner, text);
    switch (c.kind) {
      case ConstraintKind::kNotNull:
        col.not_null = true;
        break;
      case ConstraintKind::kPrimaryKey:
        col.primary_key = true;
        col.not_null = true;
        c.columns = {col.name};
        col.constraints.push_back(c);
        break;
      case ConstraintKind::kDefault: {
        col.default_kind =
            internal::ClassifyDefault(Child(*inner, "raw_expr"), &col.default_function,
                                      &col.default_user_calls, &col.default_kind_builtin);
        // The expression starts after the DEFAULT keyword.
        size_t start = c.offset;
        while (start < text.size() && std::isalpha(static_cast<unsigned char>(text[start])))
          ++start;
        while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start])))
          ++start;
        col.default_sql = internal::ExpressionTextAt(text, start);
        break;
      }
      case ConstraintKind::kIdentity:
        col.identity = true;
        break;
      case ConstraintKind::kGenerated:
        col.generated_stored = true;
        break;
      case ConstraintKind::kNull:
      case ConstraintKind::kOther:
        break;
      default:
        // A column CHECK keeps the columns it reads (it may read others than its own).
        if (c.kind != ConstraintKind::kCheck || c.columns.empty()) c.columns = {col.name};
        col.constraints.push_back(c);
    }
  }
  return col;
}

AlterCmd TranslateAlterCmd(const Json& body, std::string_view text, size_t fallback) {
  AlterCmd cmd;
  cmd.subtype = StringField(body, "subtype");
  cmd.column = StringField(body, "name");
  cmd.missing_ok = BoolField(body, "missing_ok");
  cmd.cascade = StringField(body, "behavior") == "DROP_CASCADE";
  cmd.offset = fallback;
  const Json& def = Child(body, "def");
  auto [def_name, def_body] = Unwrap(def);
  const std::string& s = cmd.subtype;
  if (s == "AT_AddColumn" && def_name == "ColumnDef") {
    cmd.action = AlterAction::kAddColumn;
    cmd.column_def = TranslateColumn(*def_body, text);
    cmd.column = cmd.column_def.name;
    cmd.offset = cmd.column_def.offset;
  } else if (s == "AT_DropColumn") {
    cmd.action = AlterAction::kDropColumn;
  } else if (s == "AT_AlterColumnType" && def_name == "ColumnDef") {
    cmd.action = AlterAction::kAlterColumnType;
    cmd.column_def.name = cmd.column;
    cmd.column_def.type = internal::TranslateTypeName(Child(*def_body, "typeName"));
    cmd.column_def.after_type_sql = AfterType(Child(*def_body, "typeName"), text);
    cmd.has_using = Has(*def_body, "raw_default");
    cmd.using_is_column =
        cmd.has_using && internal::IsColumnOrCastOf(Child(*def_body, "raw_default"), cmd.column,
                                                    cmd.column_def.type);
  } else if (s == "AT_SetNotNull") {
    cmd.action = AlterAction::kSetNotNull;
  } else if (s == "AT_DropNotNull") {
    cmd.action = AlterAction::kDropNotNull;
  } else if (s == "AT_ColumnDefault") {
    cmd.action = def.IsNull() ? AlterAction::kDropDefault : AlterAction::kSetDefault;
  } else if ((s == "AT_AddConstraint") && def_name == "Constraint") {
    cmd.action = AlterAction::kAddConstraint;
    cmd.constraint = TranslateConstraint(*def_body, text);
    cmd.offset = cmd.constraint.offset ? cmd.constraint.offset : fallback;
  } else if (s == "AT_ValidateConstraint") {
    cmd.action = AlterAction::kValidateConstraint;
    cmd.name = cmd.column;
    cmd.column.clear();
  } else if (s == "AT_DropConstraint") {
    cmd.action = AlterAction::kDropConstraint;
    cmd.name = cmd.column;
    cmd.column.clear();
  } else if (s == "AT_SetLogged") {
    cmd.action = AlterAction::kSetLogged;
  } else if (s == "AT_SetUnLogged") {
    cmd.action = AlterAction::kSetUnlogged;
  } else if (s == "AT_SetTableSpace") {
    cmd.action = AlterAction::kSetTablespace;
  } else if ((s == "AT_AttachPartition" || s == "AT_DetachPartition") &&
             def_name == "PartitionCmd") {
    cmd.action =
        s == "AT_AttachPartition" ? AlterAction::kAttachPartition : AlterAction::kDetachPartition;
    cmd.partition = RangeVarName(Child(*def_body, "name"));
    cmd.concurrent = BoolField(*def_body, "concurrent");
    cmd.offset = Offset(Child(*def_body, "name"));
  } else if (s.rfind("AT_EnableTrig", 0) == 0 || s.rfind("AT_EnableAlwaysTrig", 0) == 0 ||
             s.rfind("AT_EnableReplicaTrig", 0) == 0) {
    cmd.action = AlterAction::kEnableTrigger;
  } else if (s.rfind("AT_DisableTrig", 0) == 0) {
    cmd.action = AlterAction::kDisableTrigger;
  }
  return cmd;
}

// The table an IntoClause creates (CREATE TABLE AS, SELECT INTO). libpg_query writes a typed
// IntoClause member without its node wrapper; both shapes are read.
QualifiedName IntoRelation(const Json& into) {
  const Json& clause = Has(into, "IntoClause") ? Child(into, "IntoClause") : into;
  return RangeVarName(Child(clause, "rel"));
}

// UPDATE's SET targets or INSERT's column list: ResTarget nodes naming a column, with an
// indirection for a subscript or a field (SET a[1] = ..., SET p.x = ...).
void AssignedColumns(const Json& targets, Statement& st) {
  for (const Json& t : Elements(targets)) {
    const Json& target = Child(t, "ResTarget");
    if (!Has(target, "name")) continue;
    st.assigned_columns.push_back(
        {std::string(StringField(target, "name")), Has(target, "indirection"), Offset(target)});
  }
}

// A list of names (String nodes) that PostgreSQL accepts once each: a view's or CREATE TABLE
// AS's column names. The names carry no position of their own.
ColumnList NameColumnList(const char* clause, const Json& names, size_t offset) {
  ColumnList list;
  list.clause = clause;
  for (const auto& name : NameList(names)) list.columns.push_back({name, false, offset});
  return list;
}

// SET targets (MERGE ... UPDATE SET, ON CONFLICT DO UPDATE SET) or an INSERT column list.
ColumnList TargetColumnList(const char* clause, const Json& targets, bool assignment) {
  ColumnList list;
  list.clause = clause;
  list.assignment = assignment;
  for (const Json& t : Elements(targets)) {
    const Json& target = Child(t, "ResTarget");
    if (!Has(target, "name")) continue;
    list.columns.push_back(
        {std::string(StringField(target, "name")), Has(target, "indirection"), Offset(target)});
  }
  return list;
}

// The names of a SELECT's output columns that are known without resolving it: an alias, a
// plain column reference (a.id and b.id are both "id"), a function call's name, "?column?" for
// a constant. Others (operators, casts, *, set operations) are left out, so a duplicate is only
// reported when it is certain.
ColumnList OutputColumnList(const char* clause, const Json& select) {
  ColumnList list;
  list.clause = clause;
  const Json& body = Has(select, "SelectStmt") ? Child(select, "SelectStmt") : select;
  if (Has(body, "larg")) return list;  // UNION and friends: names come from the left arm
  for (const Json& t : Elements(Child(body, "targetList"))) {
    const Json& target = Child(t, "ResTarget");
    std::string name(StringField(target, "name"));
    if (name.empty()) {
      // PostgreSQL names an unaliased column after the column it reads, the function it calls,
      // or "?column?" for a constant (FigureColname); other expressions are left out.
      const Json& val = Child(target, "val");
      if (Has(val, "A_Const")) {
        name = "?column?";
      } else if (Has(val, "FuncCall")) {
        auto names = Elements(Child(Child(val, "FuncCall"), "funcname"));
        if (names.empty() || !Has(names.back(), "String")) continue;
        name = StringValue(names.back());
      } else if (Has(val, "ColumnRef")) {
        auto fields = Elements(Child(Child(val, "ColumnRef"), "fields"));
        if (fields.empty() || !Has(fields.back(), "String")) continue;  // t.* or *
        name = StringValue(fields.back());
      } else {
        continue;
      }
    }
    list.columns.push_back({name, false, Offset(target)});
  }
  return list;
}

// The columns a CREATE TABLE AS / SELECT INTO creates: the IntoClause's names if any, else
// the query's output names.
ColumnList CreatedColumnList(const char* clause, const Json& into, const Json& query) {
  const Json& clause_body = Has(into, "IntoClause") ? Child(into, "IntoClause") : into;
  if (Has(clause_body, "colNames"))
    return NameColumnList(clause, Child(clause_body, "colNames"), 0);
  return OutputColumnList(clause, query);
}

// CREATE FUNCTION's signature and volatility (Statement::function_min_args and friends).
void TranslateFunction(const Json& b, Statement& st) {
  st.relation = internal::NameFromList(Child(b, "funcname"));
  for (const Json& p : Elements(Child(b, "parameters"))) {
    const Json& param = Child(p, "FunctionParameter");
    std::string_view mode = StringField(param, "mode");
    if (mode == "FUNC_PARAM_OUT" || mode == "FUNC_PARAM_TABLE") continue;
    if (mode == "FUNC_PARAM_VARIADIC") {
      st.function_max_args = 100;
      continue;
    }
    ++st.function_max_args;
    if (!Has(param, "defexpr")) st.function_min_args = st.function_max_args;
  }
  st.volatility = "volatile";
  for (const Json& o : Elements(Child(b, "options"))) {
    const Json& def = Child(o, "DefElem");
    if (StringField(def, "defname") == "volatility") st.volatility = StringValue(Child(def, "arg"));
  }
}

void TranslateBody(std::string_view node, const Json& b, std::string_view text, Statement& st) {
  auto relation = [&](const char* key) { st.relation = RangeVarName(Child(b, key)); };
  if (node == "CreateStmt") {
    st.kind = StatementKind::kCreateTable;
    relation("relation");
    st.if_not_exists = BoolField(b, "if_not_exists");
    st.partitioned = Has(b, "partspec");
    for (const Json& elt : Elements(Child(b, "tableElts"))) {
      auto [name, inner] = Unwrap(elt);
      if (name == "ColumnDef") st.columns.push_back(TranslateColumn(*inner, text));
      if (name == "Constraint") st.table_constraints.push_back(TranslateConstraint(*inner, text));
    }
  } else if (node == "CreateTableAsStmt") {
    st.kind = StatementKind::kCreateTableAs;
    st.relation = IntoRelation(Child(b, "into"));
    st.if_not_exists = BoolField(b, "if_not_exists");
    st.column_lists.push_back(
        CreatedColumnList("CREATE TABLE AS", Child(b, "into"), Child(b, "query")));
  } else if (node == "AlterTableStmt") {
    relation("relation");
    std::string_view objtype = StringField(b, "objtype");
    st.kind = objtype == "OBJECT_TABLE" ? StatementKind::kAlterTable : StatementKind::kOther;
    size_t fallback = Offset(Child(b, "relation"));
    for (const Json& c : Elements(Child(b, "cmds"))) {
      auto [name, inner] = Unwrap(c);
      if (name == "AlterTableCmd") st.cmds.push_back(TranslateAlterCmd(*inner, text, fallback));
    }
  } else if (node == "IndexStmt") {
    st.kind = StatementKind::kCreateIndex;
    relation("relation");
    st.index_name = StringField(b, "idxname");
    st.concurrent = BoolField(b, "concurrent");
    st.unique = BoolField(b, "unique");
    st.if_not_exists = BoolField(b, "if_not_exists");
    const Json& rel = Child(b, "relation");
    st.only = rel.IsObject() && !BoolField(rel, "inh");
    for (const Json& p : Elements(Child(b, "indexParams"))) {
      if (!Has(p, "IndexElem")) continue;
      const Json& elem = Child(p, "IndexElem");
      st.index_columns.push_back(std::string(StringField(elem, "name")));
      internal::CollectColumnRefs(Child(elem, "expr"), st.index_expression_columns);
    }
    internal::CollectColumnRefs(Child(b, "whereClause"), st.index_expression_columns);
  } else if (node == "DropStmt") {
    std::string_view type = StringField(b, "removeType");
    st.cascade = StringField(b, "behavior") == "DROP_CASCADE";
    st.missing_ok = BoolField(b, "missing_ok");
    st.concurrent = BoolField(b, "concurrent");
    for (const Json& o : Elements(Child(b, "objects"))) {
      if (Has(o, "List"))
        st.objects.push_back(internal::NameFromList(Child(Child(o, "List"), "items")));
    }
    if (type == "OBJECT_TABLE")
      st.kind = StatementKind::kDropTable;
    else if (type == "OBJECT_INDEX")
      st.kind = StatementKind::kDropIndex;
    else if (type == "OBJECT_TRIGGER")
      st.kind = StatementKind::kDropTrigger;
    else if (type == "OBJECT_POLICY")
      st.kind = StatementKind::kDropPolicy;
    else
      st.kind = StatementKind::kDropOther;
    if (!st.objects.empty()) st.relation = st.objects.front();
    if ((st.kind == StatementKind::kDropTrigger || st.kind == StatementKind::kDropPolicy) &&
        !st.objects.empty()) {
      // DROP TRIGGER / POLICY name ON table: the list is (schema, table, name).
      auto names = NameList(Child(Child(Elements(Child(b, "objects"))[0], "List"), "items"));
      st.relation = {};
      st.relation.name = names.size() >= 2 ? names[names.size() - 2] : "";
      if (names.size() >= 3) st.relation.schema = names[names.size() - 3];
    }
  } else if (node == "RenameStmt") {
    std::string_view type = StringField(b, "renameType");
    relation("relation");
    st.old_name = StringField(b, "subname");
    st.new_name = StringField(b, "newname");
    st.renames_table_constraint = type == "OBJECT_TABCONSTRAINT";
    if (type == "OBJECT_SCHEMA") {
      st.kind = StatementKind::kRenameSchema;
      st.relation.name = st.old_name;
      return;
    }
    if (type == "OBJECT_POLICY") {
      st.kind = StatementKind::kAlterPolicy;
      st.index_name = st.old_name;
      return;
    }
    if (type == "OBJECT_TABLE")
      st.kind = StatementKind::kRenameTable;
    else if (type == "OBJECT_COLUMN" && StringField(b, "relationType") == "OBJECT_TABLE")
      st.kind = StatementKind::kRenameColumn;
    else
      st.kind = StatementKind::kRenameOther;
  } else if (node == "AlterObjectSchemaStmt") {
    // Only tables are modelled; the kind stays kOther (the node name tells what it is).
    if (StringField(b, "objectType") == "OBJECT_TABLE") {
      relation("relation");
      st.new_schema = StringField(b, "newschema");
    }
  } else if (node == "ReindexStmt") {
    st.kind = StatementKind::kReindex;
    relation("relation");
    std::string_view kind = StringField(b, "kind");
    st.reindex_target = kind.substr(kind.rfind('_') + 1);
    if (st.relation.empty()) st.relation.name = StringField(b, "name");
    for (const Json& p : Elements(Child(b, "params"))) {
      if (Has(p, "DefElem") && StringField(Child(p, "DefElem"), "defname") == "concurrently") {
        st.concurrent = true;
      }
    }
  } else if (node == "TruncateStmt") {
    st.kind = StatementKind::kTruncate;
    st.cascade = StringField(b, "behavior") == "DROP_CASCADE";
    for (const Json& r : Elements(Child(b, "relations"))) st.objects.push_back(RangeVarName(r));
    if (!st.objects.empty()) st.relation = st.objects.front();
  } else if (node == "VacuumStmt") {
    st.kind = BoolField(b, "is_vacuumcmd") ? StatementKind::kVacuum : StatementKind::kOther;
    for (const Json& o : Elements(Child(b, "options"))) {
      if (Has(o, "DefElem") && StringField(Child(o, "DefElem"), "defname") == "full")
        st.vacuum_full = DefElemBool(Child(o, "DefElem"));
    }
    for (const Json& r : Elements(Child(b, "rels"))) {
      if (Has(r, "VacuumRelation")) {
        st.objects.push_back(RangeVarName(Child(Child(r, "VacuumRelation"), "relation")));
      }
    }
    if (!st.objects.empty()) st.relation = st.objects.front();
  } else if (node == "ClusterStmt") {
    st.kind = StatementKind::kCluster;
    relation("relation");
  } else if (node == "CreateTrigStmt") {
    st.kind = StatementKind::kCreateTrigger;
    relation("relation");
  } else if (node == "CreateEnumStmt") {
    st.kind = StatementKind::kCreateEnum;
    st.relation = internal::NameFromList(Child(b, "typeName"));
    for (const Json& v : Elements(Child(b, "vals"))) st.enum_values.push_back(StringValue(v));
  } else if (node == "AlterEnumStmt") {
    st.relation = internal::NameFromList(Child(b, "typeName"));
    st.enum_value = StringField(b, "newVal");
    st.old_enum_value = StringField(b, "oldVal");
    st.if_not_exists = BoolField(b, "skipIfNewValExists");
    st.enum_neighbor = StringField(b, "newValNeighbor");
    st.enum_after = BoolField(b, "newValIsAfter");
    st.kind = st.old_enum_value.empty() ? StatementKind::kAlterEnumAddValue
                                        : StatementKind::kAlterEnumRenameValue;
  } else if (node == "AlterDomainStmt") {
    st.relation = internal::NameFromList(Child(b, "typeName"));
    if (StringField(b, "subtype") == "C") {
      st.kind = StatementKind::kAlterDomainAddConstraint;
      const Json& def = Child(b, "def");
      if (Has(def, "Constraint"))
        st.not_valid = BoolField(Child(def, "Constraint"), "skip_validation");
    }
  } else if (node == "CreateDomainStmt") {
    st.kind = StatementKind::kCreateDomain;
    st.relation = internal::NameFromList(Child(b, "domainname"));
    st.domain_type = internal::TranslateTypeName(Child(b, "typeName"));
    for (const Json& c : Elements(Child(b, "constraints"))) {
      auto [name, inner] = Unwrap(c);
      if (name == "Constraint") st.table_constraints.push_back(TranslateConstraint(*inner, text));
    }
  } else if (node == "CreateSeqStmt") {
    st.kind = StatementKind::kCreateSequence;
    relation("sequence");
    st.if_not_exists = BoolField(b, "if_not_exists");
  } else if (node == "ViewStmt") {
    st.kind = StatementKind::kCreateView;
    relation("view");
    st.column_lists.push_back(
        Has(b, "aliases")
            ? NameColumnList("CREATE VIEW", Child(b, "aliases"), Offset(Child(b, "view")))
            : OutputColumnList("CREATE VIEW", Child(b, "query")));
  } else if (node == "RefreshMatViewStmt") {
    st.kind = StatementKind::kRefreshMaterializedView;
    st.concurrent = BoolField(b, "concurrent");
    relation("relation");
  } else if (node == "UpdateStmt" || node == "DeleteStmt") {
    st.kind = node == "UpdateStmt" ? StatementKind::kUpdate : StatementKind::kDelete;
    relation("relation");
    st.has_where = Has(b, "whereClause");
    st.where_has_key_range = st.has_where && internal::HasKeyRange(Child(b, "whereClause"));
    if (node == "UpdateStmt") AssignedColumns(Child(b, "targetList"), st);
  } else if (node == "InsertStmt") {
    st.kind = StatementKind::kInsert;
    relation("relation");
    AssignedColumns(Child(b, "cols"), st);
    const Json& conflict = Child(b, "onConflictClause");
    const Json& on =
        Has(conflict, "OnConflictClause") ? Child(conflict, "OnConflictClause") : conflict;
    if (Has(on, "targetList")) {
      st.column_lists.push_back(
          TargetColumnList("ON CONFLICT DO UPDATE SET", Child(on, "targetList"), true));
    }
  } else if (node == "MergeStmt") {
    relation("relation");
    for (const Json& w : Elements(Child(b, "mergeWhenClauses"))) {
      const Json& when = Child(w, "MergeWhenClause");
      std::string_view command = StringField(when, "commandType");
      if (command == "CMD_INSERT") {
        st.column_lists.push_back(
            TargetColumnList("MERGE ... INSERT", Child(when, "targetList"), false));
      } else if (command == "CMD_UPDATE") {
        st.column_lists.push_back(
            TargetColumnList("MERGE ... UPDATE SET", Child(when, "targetList"), true));
      }
    }
  } else if (node == "CreateForeignTableStmt") {
    const Json& base = Child(b, "base");
    const Json& create = Has(base, "CreateStmt") ? Child(base, "CreateStmt") : base;
    st.relation = RangeVarName(Child(create, "relation"));
    ColumnList list;
    list.clause = "CREATE FOREIGN TABLE";
    for (const Json& elt : Elements(Child(create, "tableElts"))) {
      const Json& col = Child(elt, "ColumnDef");
      if (Has(col, "colname"))
        list.columns.push_back({std::string(StringField(col, "colname")), false, Offset(col)});
    }
    st.column_lists.push_back(std::move(list));
  } else if (node == "CreatePolicyStmt" || node == "AlterPolicyStmt") {
    st.kind =
        node == "CreatePolicyStmt" ? StatementKind::kCreatePolicy : StatementKind::kAlterPolicy;
    relation("table");
    st.index_name = StringField(b, "policy_name");
  } else if (node == "CreateFunctionStmt") {
    if (!BoolField(b, "is_procedure")) {
      st.kind = StatementKind::kCreateFunction;
      TranslateFunction(b, st);
    }
  } else if (node == "TransactionStmt") {
    std::string_view kind = StringField(b, "kind");
    if (kind == "TRANS_STMT_BEGIN" || kind == "TRANS_STMT_START")
      st.kind = StatementKind::kBegin;
    else if (kind == "TRANS_STMT_COMMIT")
      st.kind = StatementKind::kCommit;
    else if (kind == "TRANS_STMT_ROLLBACK")
      st.kind = StatementKind::kRollback;
    else
      st.kind = StatementKind::kTransactionOther;
  } else if (node == "VariableSetStmt") {
    st.kind = StatementKind::kSet;
    st.setting = StringField(b, "name");
    st.set_local = BoolField(b, "is_local");
    std::string_view kind = StringField(b, "kind");
    st.set_reset = kind == "VAR_RESET" || kind == "VAR_RESET_ALL" || kind == "VAR_SET_DEFAULT";
    auto args = Elements(Child(b, "args"));
    if (!args.empty() && Has(args[0], "A_Const")) {
      const Json& c = Child(args[0], "A_Const");
      if (Has(c, "sval"))
        st.value = StringField(Child(c, "sval"), "sval");
      else if (Has(c, "ival"))
        st.value = std::to_string(IntField(Child(c, "ival"), "ival", 0));
    }
    for (auto& ch : st.value) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  } else if (node == "LockStmt") {
    st.kind = StatementKind::kLockTable;
    for (const Json& r : Elements(Child(b, "relations"))) st.objects.push_back(RangeVarName(r));
    if (!st.objects.empty()) st.relation = st.objects.front();
  } else if (node == "DropdbStmt") {
    st.kind = StatementKind::kDropDatabase;
    st.relation.name = StringField(b, "dbname");
  } else if (node == "SelectStmt") {
    st.kind = StatementKind::kSelect;
    // SELECT ... INTO t creates table t, as CREATE TABLE t AS SELECT does.
    if (Has(b, "intoClause")) {
      st.kind = StatementKind::kCreateTableAs;
      st.relation = IntoRelation(Child(b, "intoClause"));
      st.column_lists.push_back(CreatedColumnList("SELECT ... INTO", Child(b, "intoClause"), b));
    }
  }
}

}  // namespace

namespace {

// Moves every offset of a statement translated from a piece by the piece's offset in the text.
void ShiftOffsets(Statement& st, size_t by) {
  auto constraint = [&](Constraint& c) { c.offset += by; };
  auto column = [&](ColumnDef& col) {
    col.offset += by;
    for (Constraint& c : col.constraints) constraint(c);
  };
  st.offset += by;
  for (ColumnDef& col : st.columns) column(col);
  for (Constraint& c : st.table_constraints) constraint(c);
  for (AlterCmd& cmd : st.cmds) {
    cmd.offset += by;
    column(cmd.column_def);
    constraint(cmd.constraint);
  }
  for (AssignedColumn& a : st.assigned_columns) a.offset += by;
}

}  // namespace

Status ForEachParsedStatement(std::string_view text,
                              const std::function<Status(Statement& statement)>& each) {
  return ParseToJsonInPieces(
      text, [&](size_t piece_offset, std::string_view piece, std::string& json_text) {
        rapidjson::Document tree;  // its strings point into json_text
        if (!internal::ParseTree(json_text, tree)) {
          return Status::Internal("could not read the parser's output");
        }
        for (const Json& raw : Elements(Child(tree, "stmts"))) {
          size_t begin = static_cast<size_t>(IntField(raw, "stmt_location", 0));
          size_t len = static_cast<size_t>(IntField(raw, "stmt_len", 0));
          size_t end = len == 0 ? piece.size() : std::min(piece.size(), begin + len);
          begin = SkipBlankAndComments(piece, begin);
          while (end > begin && (std::isspace(static_cast<unsigned char>(piece[end - 1])) ||
                                 piece[end - 1] == ';')) {
            --end;
          }
          Statement st;
          st.offset = begin;
          st.text = std::string(piece.substr(begin, end - begin));
          auto [node, body] = Unwrap(Child(raw, "stmt"));
          st.node = node;
          // A shape the translation did not expect must not take the linter down: the
          // accessors read a missing or mistyped member as absent, so the statement keeps what
          // could be read (kind kOther when its node is not recognised) and the rest of the
          // file is still analysed.
          if (body) TranslateBody(node, *body, piece, st);
          ShiftOffsets(st, piece_offset);
          TANDEM_RETURN_IF_ERROR(each(st));
        }
        return Status::Ok();
      });
}

// Parsed a piece of whole statements at a time (ForEachParsedStatement): the JSON tree of a
// whole 50 MB file would take gigabytes. Each piece is translated against its own text, then
// its offsets are moved to the whole text's.
Result<std::vector<Statement>> ParseStatements(std::string_view text) {
  std::vector<Statement> out;
  // A Statement is about 760 bytes: for a large file of short statements, doubling the vector
  // (old and new buffers at once) would be the peak of the whole lint.
  if (text.size() > (1 << 20)) out.reserve(StatementCountBound(text));
  TANDEM_RETURN_IF_ERROR(ForEachParsedStatement(text, [&](Statement& st) {
    out.push_back(std::move(st));
    return Status::Ok();
  }));
  return out;
}

std::string_view StatementKindName(StatementKind kind) {
  switch (kind) {
    case StatementKind::kCreateTable:
      return "CREATE TABLE";
    case StatementKind::kAlterTable:
      return "ALTER TABLE";
    case StatementKind::kCreateIndex:
      return "CREATE INDEX";
    case StatementKind::kDropIndex:
      return "DROP INDEX";
    case StatementKind::kDropTable:
      return "DROP TABLE";
    case StatementKind::kUpdate:
      return "UPDATE";
    case StatementKind::kDelete:
      return "DELETE";
    default:
      return "statement";
  }
}

}  // namespace tandem::sql
