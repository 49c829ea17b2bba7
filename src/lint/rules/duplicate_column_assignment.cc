// duplicate-column-assignment: the same column twice in UPDATE ... SET, in INSERT's column
// list, in CREATE TABLE, or in any other column list PostgreSQL takes once per column: MERGE's
// INSERT lists and UPDATE SET, ON CONFLICT DO UPDATE SET, a view's columns, CREATE TABLE AS and
// SELECT ... INTO output columns, CREATE FOREIGN TABLE (squawk's
// ban-duplicate-column-assignments covers the first two). PostgreSQL rejects the
// statement when it runs ("multiple assignments to same column", "specified more than once";
// measured), so the migration fails part-way through the release. Two subscripts or fields of
// one column (SET a[1] = 1, a[2] = 2) are allowed.
#include <map>
#include <set>

#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"

namespace tandem::lint::rules {
namespace {

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  if (st.kind == sql::StatementKind::kUpdate || st.kind == sql::StatementKind::kInsert) {
    bool update = st.kind == sql::StatementKind::kUpdate;
    std::map<std::string, bool> seen;  // column -> only partial assignments so far
    for (const auto& a : st.assigned_columns) {
      auto [it, first] = seen.emplace(a.name, a.partial);
      if (!first && (!it->second || !a.partial)) {
        c.Report(kDuplicateColumnAssignment, a.offset,
                 "column \"" + a.name + "\" is " + (update ? "assigned" : "listed") +
                     " twice; PostgreSQL rejects this " + (update ? "UPDATE" : "INSERT"),
                 "-- " + std::string(update ? "assign " : "list ") + Ident(a.name) +
                     " once in this statement");
      }
      it->second = it->second && a.partial;
    }
  }
  for (const auto& list : st.column_lists) {
    std::map<std::string, bool> seen;  // column -> only partial assignments so far
    for (const auto& a : list.columns) {
      auto [it, first] = seen.emplace(a.name, list.assignment && a.partial);
      if (!first && (!it->second || !(list.assignment && a.partial))) {
        c.Report(kDuplicateColumnAssignment, a.offset ? a.offset : st.offset,
                 "column \"" + a.name + "\" appears twice in " + list.clause +
                     "; PostgreSQL rejects the statement",
                 "-- name " + Ident(a.name) + " once in " + list.clause);
      }
      it->second = it->second && list.assignment && a.partial;
    }
  }
  if (st.kind == sql::StatementKind::kCreateTable) {
    std::set<std::string> seen;
    for (const auto& col : st.columns) {
      if (seen.insert(col.name).second) continue;
      c.Report(kDuplicateColumnAssignment, col.offset,
               "column \"" + col.name + "\" is defined twice; PostgreSQL rejects this CREATE TABLE",
               "-- define " + Ident(col.name) + " once in CREATE TABLE " + Table(c));
    }
  }
}

}  // namespace

const Rule kDuplicateColumnAssignment = {
    "duplicate-column-assignment",
    Severity::kError,
    "the same column twice in UPDATE ... SET, an INSERT column list, CREATE TABLE, MERGE's "
    "INSERT or UPDATE SET, ON CONFLICT DO UPDATE SET, CREATE VIEW, CREATE TABLE AS, SELECT ... "
    "INTO or CREATE FOREIGN TABLE",
    "PostgreSQL rejects the statement when it runs, so the migration fails part-way through the "
    "release",
    "none (the statement is rejected before it changes a row)",
    "nothing",
    "all",
    "UPDATE t SET c = 1;  -- each column once",
    "UPDATE users SET plan = 'free', plan = 'trial' WHERE id = 1;",
    &Check,
};

}  // namespace tandem::lint::rules
