// Translation of libpg_query's parse tree into tandem's statement model (see ast.h). One parse
// per section: ParseToJson of the whole text gives every RawStmt with its location.
#include "sql/ast.h"

#include <cctype>

#include "sql/ast_expr.h"
#include "sql/parser.h"

namespace tandem::sql {
namespace {

using internal::Json;
using internal::NameList;
using internal::RangeVarName;
using internal::StringValue;

size_t Offset(const Json& node) {
  if (!node.is_object()) return 0;
  int location = node.value("location", -1);
  return location < 0 ? 0 : static_cast<size_t>(location);
}

// The node's single key and its body: {"AlterTableStmt": {...}} -> ("AlterTableStmt", {...}).
std::pair<std::string, const Json*> Unwrap(const Json& node) {
  if (!node.is_object() || node.empty()) return {"", nullptr};
  auto it = node.begin();
  return {it.key(), &it.value()};
}

Constraint TranslateConstraint(const Json& body, std::string_view text) {
  Constraint c;
  std::string type = body.value("contype", "");
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
  c.name = body.value("conname", "");
  c.offset = Offset(body);
  c.not_valid = body.value("skip_validation", false);
  c.using_index = body.value("indexname", "");
  if (c.kind == ConstraintKind::kForeignKey) {
    c.columns = NameList(body.value("fk_attrs", Json::array()));
    c.referenced_table = RangeVarName(body.value("pktable", Json()));
    c.referenced_columns = NameList(body.value("pk_attrs", Json::array()));
  } else {
    c.columns = NameList(body.value("keys", Json::array()));
  }
  if (c.kind == ConstraintKind::kCheck) {
    c.not_null_column = internal::NotNullCheckColumn(body.value("raw_expr", Json()));
  }
  return c;
}

ColumnDef TranslateColumn(const Json& body, std::string_view text) {
  ColumnDef col;
  col.name = body.value("colname", "");
  col.offset = Offset(body);
  col.type = internal::TranslateTypeName(body.value("typeName", Json()));
  for (const auto& node : body.value("constraints", Json::array())) {
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
        col.default_kind = internal::ClassifyDefault((*inner)["raw_expr"], &col.default_function);
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
        c.columns = {col.name};
        col.constraints.push_back(c);
    }
  }
  return col;
}

AlterCmd TranslateAlterCmd(const Json& body, std::string_view text, size_t fallback) {
  AlterCmd cmd;
  cmd.subtype = body.value("subtype", "");
  cmd.column = body.value("name", "");
  cmd.missing_ok = body.value("missing_ok", false);
  cmd.cascade = body.value("behavior", "") == "DROP_CASCADE";
  cmd.offset = fallback;
  const Json& def = body.value("def", Json());
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
    cmd.column_def.type = internal::TranslateTypeName(def_body->value("typeName", Json()));
    cmd.has_using = def_body->contains("raw_default");
  } else if (s == "AT_SetNotNull") {
    cmd.action = AlterAction::kSetNotNull;
  } else if (s == "AT_DropNotNull") {
    cmd.action = AlterAction::kDropNotNull;
  } else if (s == "AT_ColumnDefault") {
    cmd.action = def.is_null() ? AlterAction::kDropDefault : AlterAction::kSetDefault;
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
    cmd.partition = RangeVarName(def_body->value("name", Json()));
    cmd.concurrent = def_body->value("concurrent", false);
    cmd.offset = Offset(def_body->value("name", Json()));
  } else if (s.rfind("AT_EnableTrig", 0) == 0 || s.rfind("AT_EnableAlwaysTrig", 0) == 0 ||
             s.rfind("AT_EnableReplicaTrig", 0) == 0) {
    cmd.action = AlterAction::kEnableTrigger;
  } else if (s.rfind("AT_DisableTrig", 0) == 0) {
    cmd.action = AlterAction::kDisableTrigger;
  }
  return cmd;
}

void TranslateBody(const std::string& node, const Json& b, std::string_view text, Statement& st) {
  auto relation = [&](const char* key) { st.relation = RangeVarName(b.value(key, Json())); };
  if (node == "CreateStmt") {
    st.kind = StatementKind::kCreateTable;
    relation("relation");
    st.if_not_exists = b.value("if_not_exists", false);
    st.partitioned = b.contains("partspec");
    for (const auto& elt : b.value("tableElts", Json::array())) {
      auto [name, inner] = Unwrap(elt);
      if (name == "ColumnDef") st.columns.push_back(TranslateColumn(*inner, text));
      if (name == "Constraint") st.table_constraints.push_back(TranslateConstraint(*inner, text));
    }
  } else if (node == "CreateTableAsStmt") {
    st.kind = StatementKind::kCreateTableAs;
    const Json& into = b.value("into", Json());
    if (into.contains("IntoClause"))
      st.relation = RangeVarName(into["IntoClause"].value("rel", Json()));
  } else if (node == "AlterTableStmt") {
    relation("relation");
    std::string objtype = b.value("objtype", "");
    st.kind = objtype == "OBJECT_TABLE" ? StatementKind::kAlterTable : StatementKind::kOther;
    size_t fallback = Offset(b.value("relation", Json()));
    for (const auto& c : b.value("cmds", Json::array())) {
      auto [name, inner] = Unwrap(c);
      if (name == "AlterTableCmd") st.cmds.push_back(TranslateAlterCmd(*inner, text, fallback));
    }
  } else if (node == "IndexStmt") {
    st.kind = StatementKind::kCreateIndex;
    relation("relation");
    st.index_name = b.value("idxname", "");
    st.concurrent = b.value("concurrent", false);
    st.unique = b.value("unique", false);
    st.if_not_exists = b.value("if_not_exists", false);
    const Json& rel = b.value("relation", Json());
    st.only = rel.is_object() && !rel.value("inh", false);
    for (const auto& p : b.value("indexParams", Json::array())) {
      if (p.contains("IndexElem")) st.index_columns.push_back(p["IndexElem"].value("name", ""));
    }
  } else if (node == "DropStmt") {
    std::string type = b.value("removeType", "");
    st.cascade = b.value("behavior", "") == "DROP_CASCADE";
    st.missing_ok = b.value("missing_ok", false);
    st.concurrent = b.value("concurrent", false);
    for (const auto& o : b.value("objects", Json::array())) {
      if (o.contains("List")) st.objects.push_back(internal::NameFromList(o["List"]["items"]));
    }
    if (type == "OBJECT_TABLE")
      st.kind = StatementKind::kDropTable;
    else if (type == "OBJECT_INDEX")
      st.kind = StatementKind::kDropIndex;
    else if (type == "OBJECT_TRIGGER")
      st.kind = StatementKind::kDropTrigger;
    else
      st.kind = StatementKind::kDropOther;
    if (!st.objects.empty()) st.relation = st.objects.front();
    if (st.kind == StatementKind::kDropTrigger && !st.objects.empty()) {
      // DROP TRIGGER name ON table: the list is (schema, table, trigger).
      auto names = NameList(b["objects"][0]["List"]["items"]);
      st.relation = {};
      st.relation.name = names.size() >= 2 ? names[names.size() - 2] : "";
      if (names.size() >= 3) st.relation.schema = names[names.size() - 3];
    }
  } else if (node == "RenameStmt") {
    std::string type = b.value("renameType", "");
    relation("relation");
    st.old_name = b.value("subname", "");
    st.new_name = b.value("newname", "");
    if (type == "OBJECT_TABLE")
      st.kind = StatementKind::kRenameTable;
    else if (type == "OBJECT_COLUMN" && b.value("relationType", "") == "OBJECT_TABLE")
      st.kind = StatementKind::kRenameColumn;
    else
      st.kind = StatementKind::kRenameOther;
  } else if (node == "ReindexStmt") {
    st.kind = StatementKind::kReindex;
    relation("relation");
    std::string kind = b.value("kind", "");
    st.reindex_target = kind.substr(kind.rfind('_') + 1);
    if (st.relation.empty()) st.relation.name = b.value("name", "");
    for (const auto& p : b.value("params", Json::array())) {
      if (p.contains("DefElem") && p["DefElem"].value("defname", "") == "concurrently") {
        st.concurrent = true;
      }
    }
  } else if (node == "TruncateStmt") {
    st.kind = StatementKind::kTruncate;
    st.cascade = b.value("behavior", "") == "DROP_CASCADE";
    for (const auto& r : b.value("relations", Json::array())) st.objects.push_back(RangeVarName(r));
    if (!st.objects.empty()) st.relation = st.objects.front();
  } else if (node == "VacuumStmt") {
    st.kind = b.value("is_vacuumcmd", false) ? StatementKind::kVacuum : StatementKind::kOther;
    for (const auto& o : b.value("options", Json::array())) {
      if (o.contains("DefElem") && o["DefElem"].value("defname", "") == "full")
        st.vacuum_full = true;
    }
    for (const auto& r : b.value("rels", Json::array())) {
      if (r.contains("VacuumRelation")) {
        st.objects.push_back(RangeVarName(r["VacuumRelation"].value("relation", Json())));
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
    st.relation = internal::NameFromList(b.value("typeName", Json::array()));
    for (const auto& v : b.value("vals", Json::array())) st.enum_values.push_back(StringValue(v));
  } else if (node == "AlterEnumStmt") {
    st.relation = internal::NameFromList(b.value("typeName", Json::array()));
    st.enum_value = b.value("newVal", "");
    st.old_enum_value = b.value("oldVal", "");
    st.if_not_exists = b.value("skipIfNewValExists", false);
    st.kind = st.old_enum_value.empty() ? StatementKind::kAlterEnumAddValue
                                        : StatementKind::kAlterEnumRenameValue;
  } else if (node == "AlterDomainStmt") {
    st.relation = internal::NameFromList(b.value("typeName", Json::array()));
    if (b.value("subtype", "") == "C") {
      st.kind = StatementKind::kAlterDomainAddConstraint;
      const Json& def = b.value("def", Json());
      if (def.contains("Constraint"))
        st.not_valid = def["Constraint"].value("skip_validation", false);
    }
  } else if (node == "RefreshMatViewStmt") {
    st.kind = StatementKind::kRefreshMaterializedView;
    st.concurrent = b.value("concurrent", false);
    relation("relation");
  } else if (node == "UpdateStmt" || node == "DeleteStmt") {
    st.kind = node == "UpdateStmt" ? StatementKind::kUpdate : StatementKind::kDelete;
    relation("relation");
    st.has_where = b.contains("whereClause");
    st.where_has_key_range = st.has_where && internal::HasKeyRange(b["whereClause"]);
  } else if (node == "InsertStmt") {
    st.kind = StatementKind::kInsert;
    relation("relation");
  } else if (node == "TransactionStmt") {
    std::string kind = b.value("kind", "");
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
    st.setting = b.value("name", "");
    st.set_local = b.value("is_local", false);
    std::string kind = b.value("kind", "");
    st.set_reset = kind == "VAR_RESET" || kind == "VAR_RESET_ALL" || kind == "VAR_SET_DEFAULT";
    const Json& args = b.value("args", Json::array());
    if (!args.empty() && args[0].contains("A_Const")) {
      const Json& c = args[0]["A_Const"];
      if (c.contains("sval"))
        st.value = c["sval"].value("sval", "");
      else if (c.contains("ival"))
        st.value = std::to_string(c["ival"].value("ival", 0));
    }
    for (auto& ch : st.value) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  } else if (node == "LockStmt") {
    st.kind = StatementKind::kLockTable;
    for (const auto& r : b.value("relations", Json::array())) st.objects.push_back(RangeVarName(r));
    if (!st.objects.empty()) st.relation = st.objects.front();
  } else if (node == "DropdbStmt") {
    st.kind = StatementKind::kDropDatabase;
    st.relation.name = b.value("dbname", "");
  } else if (node == "SelectStmt") {
    st.kind = StatementKind::kSelect;
  }
}

size_t SkipBlank(std::string_view text, size_t i) {
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    } else if (text.compare(i, 2, "--") == 0) {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (text.compare(i, 2, "/*") == 0) {
      size_t end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 2;
    } else {
      break;
    }
  }
  return i;
}

}  // namespace

Result<std::vector<Statement>> ParseStatements(std::string_view text) {
  TANDEM_ASSIGN_OR_RETURN(std::string json_text, ParseToJson(text));
  Json tree = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (tree.is_discarded()) return Status::Internal("could not read the parser's output");
  static const Json kEmpty = Json::object();
  std::vector<Statement> out;
  for (const auto& raw : tree.value("stmts", Json::array())) {
    size_t begin = static_cast<size_t>(raw.value("stmt_location", 0));
    size_t len = static_cast<size_t>(raw.value("stmt_len", 0));
    size_t end = len == 0 ? text.size() : std::min(text.size(), begin + len);
    begin = SkipBlank(text, begin);
    while (end > begin &&
           (std::isspace(static_cast<unsigned char>(text[end - 1])) || text[end - 1] == ';')) {
      --end;
    }
    Statement st;
    st.offset = begin;
    st.text = std::string(text.substr(begin, end - begin));
    const Json& stmt = raw.contains("stmt") ? raw["stmt"] : kEmpty;
    auto [node, body] = Unwrap(stmt);
    st.node = node;
    // A shape the translation did not expect must not take the linter down: the statement
    // keeps kind kOther and the rest of the file is still analysed.
    try {
      if (body) TranslateBody(node, *body, text, st);
    } catch (const Json::exception&) {
      st.kind = StatementKind::kOther;
    }
    out.push_back(std::move(st));
  }
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
