#include "migrate/execute_statement.h"

#include <algorithm>

namespace tandem::migrate {

Status ExecuteStatement(pg::Connection& connection, const Statement& statement) {
  if (statement.copy_data) return connection.CopyIn(statement.sql, *statement.copy_data).status();
  return connection.Exec(statement.sql);
}

pg::PipelineStep StatementStep(const Statement& statement) {
  pg::PipelineStep step;
  step.borrowed_sql = &statement.sql;
  if (statement.copy_data) step.copy_data = std::string_view(*statement.copy_data);
  return step;
}

bool HasCopyRows(const Migration& migration) {
  return std::any_of(migration.up.statements.begin(), migration.up.statements.end(),
                     [](const Statement& s) { return s.copy_data != nullptr; });
}

}  // namespace tandem::migrate
