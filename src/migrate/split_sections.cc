// SplitSections: the lazy half of loading. Runs the real parser over a migration's sections,
// maps positions back to the file, unwraps BEGIN/COMMIT wrappers and attaches allows to their
// statements.
#include <algorithm>

#include "migrate/layouts.h"
#include "sql/parser.h"

namespace tandem::migrate {
namespace {

// The statement's first line, shortened, for messages.
std::string Excerpt(std::string_view sql) {
  sql = sql.substr(0, sql.find('\n'));
  if (sql.size() > 60) return std::string(sql.substr(0, 57)) + "...";
  return std::string(sql);
}

}  // namespace

Status UnwrapTransactionControl(std::vector<sql::SplitStatement>& parts) {
  // A section that wraps itself in BEGIN; ... COMMIT; (common in golang-migrate projects):
  // tandem already runs each migration in one transaction, so the wrapper is dropped. Running
  // it would commit tandem's transaction half-way, before the history row is written.
  if (parts.size() >= 2 && parts.front().transaction_control == sql::TransactionControl::kBegin &&
      parts.back().transaction_control == sql::TransactionControl::kCommit) {
    parts.pop_back();
    parts.erase(parts.begin());
  }
  for (const sql::SplitStatement& part : parts) {
    if (part.transaction_control != sql::TransactionControl::kNone) {
      return Status::InvalidInput("transaction control statement " + ("\"" + Excerpt(part.text)) +
                                  "\" is not allowed in a migration")
          .WithLocation(SourceLocation{"", part.start.line, part.start.column})
          .WithHint(
              "remove it: tandem runs each migration in one transaction; use \"-- "
              "tandem:transaction off\" to run statements one by one");
    }
  }
  return Status::Ok();
}

namespace {

Status SplitSection(Section& section, std::vector<Allow>& file_allows) {
  if (!section.present || section.split) return Status::Ok();
  auto split = sql::SplitStatements(section.text);
  if (!split.ok()) {
    // The parser counts from the section's first line; sections start at column 1.
    Status status = split.status();
    SourceLocation at = status.location();
    at.file = section.path;
    at.line = at.line > 0 ? at.line + section.text_line - 1 : section.text_line;
    return std::move(status).WithLocation(at);
  }
  std::vector<sql::SplitStatement>& parts = *split;

  Status control = UnwrapTransactionControl(parts);
  if (!control.ok()) {
    SourceLocation at = control.location();
    at.file = section.path;
    at.line += section.text_line - 1;
    return std::move(control).WithLocation(at);
  }
  std::vector<Statement> statements;
  statements.reserve(parts.size());
  for (sql::SplitStatement& part : parts) {
    SourceLocation location{section.path, part.start.line + section.text_line - 1,
                            part.start.column};
    statements.push_back(Statement{std::move(part.text), std::move(location), {}});
  }

  // Allows the line scan found right above a line of SQL belong to the statement starting on
  // that line; if none starts there (the line continues a statement), they apply to the file.
  for (StatementAllow& pending : section.statement_allows) {
    auto it = std::find_if(statements.begin(), statements.end(),
                           [&](const Statement& s) { return s.location.line == pending.line; });
    if (it != statements.end()) {
      it->allows.push_back(std::move(pending.allow));
    } else {
      file_allows.push_back(std::move(pending.allow));
    }
  }
  section.statement_allows.clear();
  section.statements = std::move(statements);
  section.split = true;
  return Status::Ok();
}

}  // namespace

Status SplitSections(Migration& migration) {
  TANDEM_RETURN_IF_ERROR(SplitSection(migration.up, migration.file_allows));
  return SplitSection(migration.down, migration.file_allows);
}

}  // namespace tandem::migrate
