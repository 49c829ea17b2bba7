// Replaying statements into the schema model (see schema.h).
#include "lint/schema.h"

#include <algorithm>

namespace tandem::lint {

std::string TableKey(const sql::QualifiedName& name) {
  if (name.schema.empty() || name.schema == "public") return name.name;
  return name.schema + "." + name.name;
}

const TableInfo* Schema::FindTable(const sql::QualifiedName& name) const {
  auto it = tables_.find(TableKey(name));
  if (it == tables_.end() && !name.schema.empty()) it = tables_.find(name.name);
  return it == tables_.end() ? nullptr : &it->second;
}

TableInfo* Schema::MutableTable(const sql::QualifiedName& name) {
  return const_cast<TableInfo*>(FindTable(name));
}

const ColumnInfo* Schema::FindColumn(const sql::QualifiedName& table,
                                     const std::string& column) const {
  const TableInfo* t = FindTable(table);
  if (!t) return nullptr;
  auto it = t->columns.find(column);
  return it == t->columns.end() ? nullptr : &it->second;
}

const IndexInfo* Schema::FindIndex(const std::string& index) const {
  auto it = indexes_.find(index);
  return it == indexes_.end() ? nullptr : &it->second;
}

std::vector<std::pair<std::string, const IndexInfo*>> Schema::IndexesOf(
    const sql::QualifiedName& table) const {
  std::vector<std::pair<std::string, const IndexInfo*>> out;
  std::string key = TableKey(table);
  for (const auto& [name, info] : indexes_) {
    if (info.table == key || (!table.schema.empty() && info.table == table.name))
      out.emplace_back(name, &info);
  }
  return out;
}

namespace {
bool FindNotNullCheck(const TableInfo* t, const std::string& column, bool validated_only) {
  if (!t) return false;
  for (const auto& [name, c] : t->constraints) {
    if (c.kind == sql::ConstraintKind::kCheck && (c.validated || !validated_only) &&
        c.not_null_column == column) {
      return true;
    }
  }
  return false;
}
}  // namespace

bool Schema::HasValidatedNotNullCheck(const sql::QualifiedName& table,
                                      const std::string& column) const {
  return FindNotNullCheck(FindTable(table), column, /*validated_only=*/true);
}

bool Schema::HasNotNullCheck(const sql::QualifiedName& table, const std::string& column) const {
  return FindNotNullCheck(FindTable(table), column, /*validated_only=*/false);
}

std::string Schema::FunctionVolatility(const sql::FunctionCall& call) const {
  auto [begin, end] = functions_.equal_range(call.name);
  for (auto it = begin; it != end; ++it) {
    const FunctionInfo& f = it->second;
    bool same_schema = call.schema.empty() || f.schema.empty() || call.schema == f.schema;
    if (same_schema && call.args >= f.min_args && call.args <= f.max_args) return f.volatility;
  }
  return "";
}

TableInfo& Schema::AddTable(const std::string& key) { return tables_[key]; }

namespace {

ConstraintInfo InfoFor(const sql::Constraint& c, bool validated) {
  ConstraintInfo info;
  info.kind = c.kind;
  info.validated = validated && !c.not_valid;
  info.not_null_column = c.not_null_column;
  info.referenced_table = TableKey(c.referenced_table);
  info.columns = c.columns;
  info.check_sql = c.check_sql;
  return info;
}

// The name PostgreSQL would give an unnamed constraint, close enough for lookups by name.
std::string ConstraintName(const std::string& table, const sql::Constraint& c) {
  if (!c.name.empty()) return c.name;
  std::string cols;
  for (const auto& col : c.columns) cols += "_" + col;
  switch (c.kind) {
    case sql::ConstraintKind::kPrimaryKey:
      return table + "_pkey";
    case sql::ConstraintKind::kUnique:
      return table + cols + "_key";
    case sql::ConstraintKind::kForeignKey:
      return table + cols + "_fkey";
    case sql::ConstraintKind::kCheck:
      return table + cols + "_check";
    default:
      return table + cols + "_constraint";
  }
}

void AddColumn(TableInfo& table, const std::string& table_name, const sql::ColumnDef& col) {
  ColumnInfo info;
  info.type = col.type;
  info.not_null = col.not_null;
  info.has_default = col.default_kind != sql::DefaultKind::kNone;
  table.columns[col.name] = info;
  for (const auto& c : col.constraints) {
    table.constraints[ConstraintName(table_name, c)] = InfoFor(c, true);
  }
}

}  // namespace

void Schema::Apply(const sql::Statement& st) {
  using sql::StatementKind;
  switch (st.kind) {
    case StatementKind::kCreateTable: {
      if (st.if_not_exists && FindTable(st.relation)) return;
      TableInfo& t = tables_[TableKey(st.relation)];
      t = TableInfo();
      t.partitioned = st.partitioned;
      for (const auto& col : st.columns) AddColumn(t, st.relation.name, col);
      for (const auto& c : st.table_constraints) {
        t.constraints[ConstraintName(st.relation.name, c)] = InfoFor(c, true);
        if (c.kind == sql::ConstraintKind::kPrimaryKey) {
          for (const auto& col : c.columns) t.columns[col].not_null = true;
        }
      }
      return;
    }
    case StatementKind::kCreateTableAs: {
      TableInfo& t = tables_[TableKey(st.relation)];
      t = TableInfo();
      t.complete = false;
      return;
    }
    case StatementKind::kAlterTable:
      ApplyAlter(st);
      return;
    case StatementKind::kCreateIndex:
      if (!st.index_name.empty()) {
        indexes_[st.index_name] = {TableKey(st.relation), st.index_columns,
                                   st.index_expression_columns, st.text};
      }
      return;
    case StatementKind::kDropIndex:
      for (const auto& o : st.objects) indexes_.erase(o.name);
      return;
    case StatementKind::kDropTable:
      for (const auto& o : st.objects) {
        tables_.erase(TableKey(o));
        std::erase_if(indexes_,
                      [&](const auto& entry) { return entry.second.table == TableKey(o); });
      }
      return;
    case StatementKind::kRenameTable: {
      auto it = tables_.find(TableKey(st.relation));
      if (it == tables_.end()) return;
      TableInfo moved = std::move(it->second);
      tables_.erase(it);
      std::string new_key = TableKey({st.relation.schema, st.new_name});
      tables_[new_key] = std::move(moved);
      for (auto& [name, index] : indexes_) {
        if (index.table == TableKey(st.relation)) index.table = new_key;
      }
      return;
    }
    case StatementKind::kRenameColumn: {
      TableInfo* t = MutableTable(st.relation);
      if (!t) return;
      auto it = t->columns.find(st.old_name);
      if (it == t->columns.end()) return;
      ColumnInfo moved = it->second;
      t->columns.erase(it);
      t->columns[st.new_name] = moved;
      return;
    }
    case StatementKind::kCreateEnum:
      enums_.insert(st.relation.name);
      return;
    case StatementKind::kCreateFunction: {
      // CREATE OR REPLACE of the same signature replaces the earlier definition.
      auto [begin, end] = functions_.equal_range(st.relation.name);
      for (auto it = begin; it != end;) {
        bool same = it->second.schema == st.relation.schema &&
                    it->second.min_args == st.function_min_args &&
                    it->second.max_args == st.function_max_args;
        it = same ? functions_.erase(it) : std::next(it);
      }
      functions_.emplace(st.relation.name, FunctionInfo{st.relation.schema, st.function_min_args,
                                                        st.function_max_args, st.volatility});
      return;
    }
    default:
      return;
  }
}

void Schema::ApplyAlter(const sql::Statement& st) {
  TableInfo* t = MutableTable(st.relation);
  if (!t) {
    // A table the model has not seen (created before the linted history, no catalog read):
    // its columns stay unknown, but what this migration adds to it (constraints, validations,
    // columns) is known and later statements rely on it, e.g. SET NOT NULL after a validated
    // CHECK (col IS NOT NULL).
    t = &tables_[TableKey(st.relation)];
    t->complete = false;
  }
  for (const auto& cmd : st.cmds) {
    switch (cmd.action) {
      case sql::AlterAction::kAddColumn:
        AddColumn(*t, st.relation.name, cmd.column_def);
        break;
      case sql::AlterAction::kDropColumn: {
        t->columns.erase(cmd.column);
        // Its indexes go with it.
        std::string key = TableKey(st.relation);
        std::erase_if(indexes_, [&](const auto& entry) {
          const IndexInfo& i = entry.second;
          auto uses = [&](const std::vector<std::string>& v) {
            return std::find(v.begin(), v.end(), cmd.column) != v.end();
          };
          return i.table == key && (uses(i.columns) || uses(i.expression_columns));
        });
        break;
      }
      case sql::AlterAction::kAlterColumnType:
        if (t->columns.count(cmd.column)) t->columns[cmd.column].type = cmd.column_def.type;
        break;
      case sql::AlterAction::kSetNotNull:
        if (t->columns.count(cmd.column)) t->columns[cmd.column].not_null = true;
        break;
      case sql::AlterAction::kDropNotNull:
        if (t->columns.count(cmd.column)) t->columns[cmd.column].not_null = false;
        break;
      case sql::AlterAction::kSetDefault:
      case sql::AlterAction::kDropDefault:
        if (t->columns.count(cmd.column)) {
          t->columns[cmd.column].has_default = cmd.action == sql::AlterAction::kSetDefault;
        }
        break;
      case sql::AlterAction::kAddConstraint: {
        std::string name = ConstraintName(st.relation.name, cmd.constraint);
        t->constraints[name] = InfoFor(cmd.constraint, true);
        if (cmd.constraint.kind == sql::ConstraintKind::kPrimaryKey) {
          for (const auto& col : cmd.constraint.columns) {
            if (t->columns.count(col)) t->columns[col].not_null = true;
          }
        }
        break;
      }
      case sql::AlterAction::kValidateConstraint:
        if (t->constraints.count(cmd.name)) t->constraints[cmd.name].validated = true;
        break;
      case sql::AlterAction::kDropConstraint:
        t->constraints.erase(cmd.name);
        break;
      default:
        break;
    }
  }
}

}  // namespace tandem::lint
