// The only translation unit that includes pg_query.h.
#include "sql/parser.h"

#include <pg_query.h>

#include <cctype>
#include <mutex>

namespace tandem::sql {
namespace {

Status ErrorStatus(const PgQueryError* error, std::string_view text) {
  Status status =
      Status::InvalidInput(std::string("syntax error: ") + error->message)
          .WithSqlState("42601")
          .WithHint("fix the SQL; tandem parses migrations with PostgreSQL 15's parser");
  if (error->cursorpos > 0) {
    // cursorpos is a 1-based character position; for ASCII it equals the byte offset.
    LineColumn at = LineColumnAt(text, static_cast<size_t>(error->cursorpos - 1));
    status.WithLocation({"", at.line, at.column});
  }
  return status;
}

std::string UpperWord(std::string_view text, size_t& i) {
  i = SkipBlankAndComments(text, i);
  std::string word;
  while (i < text.size() && (std::isalpha(static_cast<unsigned char>(text[i])) || text[i] == '_')) {
    word.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(text[i]))));
    ++i;
  }
  return word;
}

}  // namespace

size_t BlockCommentEnd(std::string_view text, size_t i) {
  int depth = 0;
  while (i < text.size()) {
    if (text.compare(i, 2, "/*") == 0) {
      ++depth;
      i += 2;
    } else if (text.compare(i, 2, "*/") == 0) {
      i += 2;
      if (--depth == 0) return i;
    } else {
      ++i;
    }
  }
  return std::string_view::npos;
}

size_t SkipBlankAndComments(std::string_view text, size_t i) {
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    } else if (text.compare(i, 2, "--") == 0) {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (text.compare(i, 2, "/*") == 0) {
      size_t end = BlockCommentEnd(text, i);
      if (end == std::string_view::npos) return i;
      i = end;
    } else {
      break;
    }
  }
  return i;
}

LineColumn LineColumnAt(std::string_view text, size_t offset) {
  LineColumn lc;
  size_t line_start = 0;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++lc.line;
      line_start = i + 1;
    }
  }
  lc.column = static_cast<int>(offset - line_start) + 1;
  return lc;
}

TransactionControl ClassifyTransactionControl(std::string_view statement) {
  size_t i = 0;
  std::string first = UpperWord(statement, i);
  if (first == "BEGIN") return TransactionControl::kBegin;
  if (first == "START") {
    return UpperWord(statement, i) == "TRANSACTION" ? TransactionControl::kBegin
                                                    : TransactionControl::kNone;
  }
  if (first == "COMMIT") {
    return UpperWord(statement, i) == "PREPARED" ? TransactionControl::kOther
                                                 : TransactionControl::kCommit;
  }
  if (first == "END") return TransactionControl::kCommit;
  if (first == "ROLLBACK") {
    std::string next = UpperWord(statement, i);
    return (next == "PREPARED" || next == "TO") ? TransactionControl::kOther
                                                : TransactionControl::kRollback;
  }
  if (first == "ABORT") return TransactionControl::kRollback;
  if (first == "SAVEPOINT" || first == "RELEASE") return TransactionControl::kOther;
  if (first == "PREPARE") {
    return UpperWord(statement, i) == "TRANSACTION" ? TransactionControl::kOther
                                                    : TransactionControl::kNone;
  }
  return TransactionControl::kNone;
}

Result<std::vector<SplitStatement>> SplitStatements(std::string_view text) {
  std::string input(text);
  PgQuerySplitResult result = pg_query_split_with_parser(input.c_str());
  if (result.error) {
    Status status = ErrorStatus(result.error, text);
    pg_query_free_split_result(result);
    return status;
  }
  std::vector<SplitStatement> out;
  out.reserve(result.n_stmts);
  for (int i = 0; i < result.n_stmts; ++i) {
    const PgQuerySplitStmt* stmt = result.stmts[i];
    size_t begin = static_cast<size_t>(stmt->stmt_location);
    size_t end = begin + static_cast<size_t>(stmt->stmt_len);
    if (stmt->stmt_len == 0) end = input.size();  // the last statement may report length 0
    begin = SkipBlankAndComments(text, begin);
    if (begin >= end) continue;
    std::string_view body = text.substr(begin, end - begin);
    while (!body.empty() &&
           (std::isspace(static_cast<unsigned char>(body.back())) || body.back() == ';')) {
      body.remove_suffix(1);
    }
    if (body.empty()) continue;
    SplitStatement s;
    s.text = std::string(body);
    s.offset = begin;
    s.start = LineColumnAt(text, begin);
    s.transaction_control = ClassifyTransactionControl(s.text);
    out.push_back(std::move(s));
  }
  pg_query_free_split_result(result);
  return out;
}

Result<std::string> ParseToJson(std::string_view text) {
  std::string input(text);
  PgQueryParseResult result = pg_query_parse(input.c_str());
  if (result.error) {
    Status status = ErrorStatus(result.error, text);
    pg_query_free_parse_result(result);
    return status;
  }
  std::string json = result.parse_tree ? result.parse_tree : "";
  pg_query_free_parse_result(result);
  return json;
}

}  // namespace tandem::sql
