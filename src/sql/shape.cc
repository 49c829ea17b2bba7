// Reads the few parse-tree facts verify needs out of libpg_query's JSON (see shape.h).
#include "sql/shape.h"

#include <nlohmann/json.hpp>

#include "sql/parser.h"

namespace tandem::sql {
namespace {

using nlohmann::json;

RelationName ReadRangeVar(const json& range_var) {
  RelationName name;
  if (!range_var.is_object()) return name;
  name.schema = range_var.value("schemaname", "");
  name.name = range_var.value("relname", "");
  return name;
}

void ShapeInsert(const json& insert, StatementShape& shape) {
  shape.insert_table = ReadRangeVar(insert.value("relation", json::object()));
  for (const json& col : insert.value("cols", json::array())) {
    if (col.contains("ResTarget"))
      shape.insert_columns.push_back(col["ResTarget"].value("name", ""));
  }
  if (!shape.insert_columns.empty()) return;
  // INSERT INTO t VALUES (...): the values fill the first columns in order.
  const json& select = insert.value("selectStmt", json::object());
  if (!select.contains("SelectStmt")) return;
  const json& lists = select["SelectStmt"].value("valuesLists", json::array());
  if (lists.empty() || !lists[0].contains("List")) return;
  shape.insert_value_count =
      static_cast<int>(lists[0]["List"].value("items", json::array()).size());
}

void ShapeAlterTable(const json& alter, StatementShape& shape) {
  if (alter.value("objtype", "") != "OBJECT_TABLE") return;
  RelationName table = ReadRangeVar(alter.value("relation", json::object()));
  for (const json& cmd : alter.value("cmds", json::array())) {
    if (!cmd.contains("AlterTableCmd")) continue;
    const json& c = cmd["AlterTableCmd"];
    if (c.value("subtype", "") == "AT_SetNotNull") {
      shape.set_not_null.emplace_back(table, c.value("name", ""));
    }
  }
}

}  // namespace

Result<std::vector<StatementShape>> ShapeStatements(std::string_view text) {
  TANDEM_ASSIGN_OR_RETURN(std::string tree_text, ParseToJson(text));
  json tree = json::parse(tree_text, nullptr, /*allow_exceptions=*/false);
  if (tree.is_discarded()) return Status::Internal("could not read the parse tree");
  std::vector<StatementShape> out;
  for (const json& raw : tree.value("stmts", json::array())) {
    StatementShape shape;
    const json& stmt = raw.value("stmt", json::object());
    if (!stmt.is_object() || stmt.empty()) continue;
    shape.node = stmt.begin().key();
    const json& body = stmt.begin().value();
    static const char* kPreparable[] = {"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt",
                                        "MergeStmt"};
    for (const char* node : kPreparable) shape.preparable |= shape.node == node;
    if (shape.node == "InsertStmt") ShapeInsert(body, shape);
    if (shape.node == "AlterTableStmt") ShapeAlterTable(body, shape);
    out.push_back(std::move(shape));
  }
  return out;
}

}  // namespace tandem::sql
