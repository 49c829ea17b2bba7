// Reads the few parse-tree facts verify needs out of libpg_query's JSON (see shape.h), with the
// RapidJSON reader and accessors of ast_expr.h (why RapidJSON: there).
#include "sql/shape.h"

#include "sql/ast_expr.h"
#include "sql/parser.h"

namespace tandem::sql {
namespace {

using internal::Child;
using internal::Elements;
using internal::Has;
using internal::Json;
using internal::StringField;

RelationName ReadRangeVar(const Json& range_var) {
  RelationName name;
  if (!range_var.IsObject()) return name;
  name.schema = StringField(range_var, "schemaname");
  name.name = StringField(range_var, "relname");
  return name;
}

void ShapeInsert(const Json& insert, StatementShape& shape) {
  shape.insert_table = ReadRangeVar(Child(insert, "relation"));
  for (const Json& col : Elements(Child(insert, "cols"))) {
    if (Has(col, "ResTarget"))
      shape.insert_columns.emplace_back(StringField(Child(col, "ResTarget"), "name"));
  }
  if (!shape.insert_columns.empty()) return;
  // INSERT INTO t VALUES (...): the values fill the first columns in order.
  const Json& select = Child(insert, "selectStmt");
  if (!Has(select, "SelectStmt")) return;
  auto lists = Elements(Child(Child(select, "SelectStmt"), "valuesLists"));
  if (lists.empty() || !Has(lists[0], "List")) return;
  shape.insert_value_count =
      static_cast<int>(Elements(Child(Child(lists[0], "List"), "items")).size());
}

void ShapeAlterTable(const Json& alter, StatementShape& shape) {
  if (StringField(alter, "objtype") != "OBJECT_TABLE") return;
  RelationName table = ReadRangeVar(Child(alter, "relation"));
  for (const Json& cmd : Elements(Child(alter, "cmds"))) {
    if (!Has(cmd, "AlterTableCmd")) continue;
    const Json& c = Child(cmd, "AlterTableCmd");
    if (StringField(c, "subtype") == "AT_SetNotNull") {
      shape.set_not_null.emplace_back(table, StringField(c, "name"));
    }
  }
}

}  // namespace

Result<std::vector<StatementShape>> ShapeStatements(std::string_view text) {
  TANDEM_ASSIGN_OR_RETURN(std::string tree_text, ParseToJson(text));
  rapidjson::Document tree;  // its strings point into tree_text
  if (!internal::ParseTree(tree_text, tree))
    return Status::Internal("could not read the parse tree");
  std::vector<StatementShape> out;
  for (const Json& raw : Elements(Child(tree, "stmts"))) {
    StatementShape shape;
    auto [node, body] = internal::Unwrap(Child(raw, "stmt"));
    if (!body) continue;
    shape.node = node;
    static const char* kPreparable[] = {"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt",
                                        "MergeStmt"};
    for (const char* preparable : kPreparable) shape.preparable |= shape.node == preparable;
    if (shape.node == "InsertStmt") ShapeInsert(*body, shape);
    if (shape.node == "AlterTableStmt") ShapeAlterTable(*body, shape);
    out.push_back(std::move(shape));
  }
  return out;
}

}  // namespace tandem::sql
