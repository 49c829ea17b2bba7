// SplitSections: the lazy half of loading. Runs the real parser over a migration's sections,
// maps positions back to the file, unwraps BEGIN/COMMIT wrappers and attaches allows to their
// statements.
#include <algorithm>

#include "migrate/inline_data.h"
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

// The statements of `section`, each with the rows of its inline COPY, made straight from the
// parser's spans: a section of half a million statements is held once as text and once as
// statements, never a third time as intermediate parts. `controls` keeps, of the transaction
// control question, only what UnwrapTransactionControl needs: the first and last statements
// and those that are transaction control, with their statement indices.
struct Parts {
  std::vector<Statement> statements;
  std::vector<sql::SplitStatement> controls;
  std::vector<size_t> control_index;
};

Result<Parts> SplitText(const Section& section) {
  // The parser counts from the section's first line; sections start at column 1.
  auto in_file = [&](Status status, int line_offset) {
    SourceLocation at = status.location();
    at.file = section.path;
    at.line = at.line > 0 ? at.line + line_offset + section.text_line - 1 : section.text_line;
    return std::move(status).WithLocation(at);
  };
  std::string_view text = section.text;
  auto inline_data = FindInlineData(text);
  if (!inline_data.ok()) return in_file(inline_data.status(), 0);
  Parts parts;
  const FilePath path = section.path;  // one string for every statement's location
  // Half a million statements of ~140 bytes each: growing by doubling would set the peak.
  if (text.size() > (1 << 20)) parts.statements.reserve(sql::StatementCountBound(text));
  // SQL between COPY rows is split chunk by chunk; every chunk starts at a line's start.
  size_t begin = 0;
  int line_offset = 0;  // lines of `text` before `begin`
  auto split_chunk = [&](size_t end) -> Status {
    Status split =
        sql::ForEachStatement(text.substr(begin, end - begin), [&](const sql::StatementSpan& span) {
          int line = span.start.line + line_offset;
          size_t index = parts.statements.size();
          parts.statements.push_back(
              Statement{std::string(span.text),
                        SourceLocation{path, line + section.text_line - 1, span.start.column},
                        {},
                        nullptr});
          if (index == 0 || span.transaction_control != sql::TransactionControl::kNone) {
            parts.control_index.push_back(index);
            parts.controls.push_back({"", 0, {}, span.transaction_control});
          }
          return Status::Ok();
        });
    if (!split.ok()) return in_file(split, line_offset);
    return Status::Ok();
  };
  auto move_to = [&](size_t end) {
    for (size_t i = begin; i < end; ++i) line_offset += text[i] == '\n' ? 1 : 0;
    begin = end;
  };
  for (const InlineData& data : *inline_data) {
    size_t statements_before = parts.statements.size();
    TANDEM_RETURN_IF_ERROR(split_chunk(data.sql_end));
    if (parts.statements.size() == statements_before ||
        parts.statements.back().location.line != data.copy_line + section.text_line - 1) {
      // The scan and the parser disagree on where the COPY statement is (it stands inside
      // another statement's body): refuse rather than send rows with the wrong statement.
      return Status::InvalidInput("COPY ... FROM STDIN rows that belong to no COPY statement")
          .WithLocation({section.path, data.copy_line + section.text_line - 1, 1})
          .WithHint("put the COPY statement and its rows at the top level of the migration");
    }
    parts.statements.back().copy_data = std::make_shared<const std::string>(
        text.substr(data.data_begin, data.data_end - data.data_begin));
    move_to(data.resume);
  }
  TANDEM_RETURN_IF_ERROR(split_chunk(text.size()));
  size_t n = parts.statements.size();
  if (n >= 2 && parts.control_index.back() != n - 1) {
    parts.control_index.push_back(n - 1);
    parts.controls.push_back(
        {"", 0, {}, sql::ClassifyTransactionControl(parts.statements.back().sql)});
  }
  // What a refusal names: the start of the statement (its first line, shortened, is all
  // UnwrapTransactionControl quotes) and where it stands in the section.
  for (size_t k = 0; k < parts.controls.size(); ++k) {
    const Statement& statement = parts.statements[parts.control_index[k]];
    parts.controls[k].text = statement.sql.substr(0, 80);
    parts.controls[k].start = {statement.location.line - section.text_line + 1,
                               statement.location.column};
  }
  return parts;
}

Status SplitSection(Section& section, std::vector<Allow>& file_allows) {
  if (!section.present || section.split) return Status::Ok();
  TANDEM_ASSIGN_OR_RETURN(Parts split, SplitText(section));
  std::vector<Statement>& statements = split.statements;

  // The first, the last and the transaction control statements decide as all of them would.
  size_t before = split.controls.size();
  Status control = UnwrapTransactionControl(split.controls);
  if (!control.ok()) {
    SourceLocation at = control.location();
    at.file = section.path;
    at.line += section.text_line - 1;
    return std::move(control).WithLocation(at);
  }
  bool unwrapped = split.controls.size() + 2 == before;
  if (unwrapped) {  // the wrapper is the first and the last statement: dropped
    statements.pop_back();
    statements.erase(statements.begin());
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
  section.unwrapped = unwrapped;
  section.split = true;
  return Status::Ok();
}

}  // namespace

Status SplitSections(Migration& migration) {
  return SplitSection(migration.up, migration.file_allows);
}

Status SplitDownSection(Migration& migration) {
  return SplitSection(migration.down, migration.file_allows);
}

}  // namespace tandem::migrate
