// The one door to libpg_query (the real PostgreSQL 15 parser). Only parser.cc includes
// pg_query.h; everything else sees these types, with positions in the original text.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tandem::sql {

// Line and column (both 1-based, column in bytes) of a byte offset in `text`.
struct LineColumn {
  int line = 1;
  int column = 1;
};
LineColumn LineColumnAt(std::string_view text, size_t offset);

enum class TransactionControl {
  kNone,
  kBegin,     // BEGIN, START TRANSACTION
  kCommit,    // COMMIT, END
  kRollback,  // ROLLBACK, ABORT
  kOther,     // SAVEPOINT, RELEASE, PREPARE TRANSACTION, COMMIT PREPARED, ...
};

struct SplitStatement {
  std::string text;   // the statement without leading comments and the trailing semicolon
  size_t offset = 0;  // byte offset of text in the input
  LineColumn start;   // where text starts in the input
  TransactionControl transaction_control = TransactionControl::kNone;
};

// One statement as SplitStatements finds it, pointing into the text it was split from.
struct StatementSpan {
  std::string_view text;  // the statement without leading comments and the trailing semicolon
  size_t offset = 0;      // byte offset of text in the input
  LineColumn start;       // where text starts in the input
  TransactionControl transaction_control = TransactionControl::kNone;
};

// SplitStatements without collecting: `each` gets every statement in order, as soon as its
// piece is parsed, and nothing of a statement is kept after it returns (a caller that keeps
// only some of them, or builds its own model, never holds a second copy of the text). Stops
// at the first error `each` returns; syntax errors as SplitStatements.
Status ForEachStatement(std::string_view text,
                        const std::function<Status(const StatementSpan& statement)>& each);

// Splits SQL into statements with the real parser, so dollar quoting, comments, strings and
// BEGIN ATOMIC bodies are handled exactly as the server does. The parser sees a piece of whole
// statements (about 256 KB) at a time, so memory follows the largest statement, not the text. On a
// syntax error returns kInvalidInput with the PostgreSQL message; the error's location (line,
// column relative to `text`) is set with an empty file name for the caller to fill in.
Result<std::vector<SplitStatement>> SplitStatements(std::string_view text);

// The parse tree of `text` as libpg_query's JSON (one RawStmt per statement), for the
// translation into tandem's own statement model (src/sql/ and src/lint/ only). Same errors as
// SplitStatements.
Result<std::string> ParseToJson(std::string_view text);

// The parse tree of `text` as libpg_query's JSON, in pieces of whole statements (as
// SplitStatements parses them), so that no tree of a whole large file is ever held: `each` gets
// each piece's byte offset in `text`, its text, and its JSON, whose locations are relative to
// the piece. Stops at the first error `each` returns; a syntax error is returned as
// ParseToJson's, with its line and column in `text`.
Status ParseToJsonInPieces(
    std::string_view text,
    const std::function<Status(size_t offset, std::string_view piece, std::string& json)>& each);

// At least the number of statements in `text` (one more than its top-level semicolons, found
// by a lexical scan without the parser), for reserving room for them: the statement model of a
// large file is big enough that growing its vector by doubling would set the peak.
size_t StatementCountBound(std::string_view text);

// Where the /* */ comment that opens at `i` ends (one past its "*/"; comments nest, as in
// PostgreSQL), or npos when it is never closed.
size_t BlockCommentEnd(std::string_view text, size_t i);

// `i` moved past blanks and comments (-- to the end of the line, nestable /* */). It stops at a
// /* that is never closed: that is not a comment it can skip.
size_t SkipBlankAndComments(std::string_view text, size_t i);

// Classifies by the statement's first keywords (no parse needed).
TransactionControl ClassifyTransactionControl(std::string_view statement);

}  // namespace tandem::sql
