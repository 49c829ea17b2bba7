// The only translation unit that includes pg_query.h.
#include "sql/parser.h"

#include <pg_query.h>

#include <cctype>
#include <functional>
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

namespace {

bool IsIdentChar(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; }
bool IsIdentStart(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }

// Where each statement may end: one past every ';' at the top level, as PostgreSQL's lexer
// would see it (quotes, E'' escapes, quoted identifiers, dollar quoting, nested comments). It
// only proposes cuts; the parser decides (see SplitStatements). One statement at a time, with
// no memory beyond the position.
class CutFinder {
 public:
  explicit CutFinder(std::string_view text) : text_(text) {}

  // One past the next top-level ';', or npos at the end of the text.
  size_t Next() {
    const std::string_view t = text_;
    while (i_ < t.size()) {
      unsigned char c = t[i_];
      if (c == ';') return ++i_;
      if (c == '-' && t.compare(i_, 2, "--") == 0) {
        size_t eol = t.find_first_of("\r\n", i_);
        i_ = eol == std::string_view::npos ? t.size() : eol + 1;
      } else if (c == '/' && t.compare(i_, 2, "/*") == 0) {
        size_t end = BlockCommentEnd(t, i_);
        i_ = end == std::string_view::npos ? t.size() : end;
      } else if (c == '\'') {
        i_ = QuotedEnd(i_ + 1, '\'', false);
      } else if (c == '"') {
        i_ = QuotedEnd(i_ + 1, '"', false);
      } else if (c == '$') {
        i_ = DollarEnd(i_);
      } else if (IsIdentStart(c)) {
        size_t start = i_;
        while (i_ < t.size() && IsIdentChar(t[i_])) ++i_;
        // E'...' takes backslash escapes; only when the E is a whole token ("abce'x'" is an
        // identifier followed by a plain string).
        if (i_ - start == 1 && (c == 'e' || c == 'E') && i_ < t.size() && t[i_] == '\'') {
          i_ = QuotedEnd(i_ + 1, '\'', true);
        }
      } else {
        ++i_;
      }
    }
    return std::string_view::npos;
  }

 private:
  // One past the closing quote of a literal whose body starts at `i` (a doubled quote is part
  // of the body); the end of the text when it is never closed.
  size_t QuotedEnd(size_t i, char quote, bool backslash_escapes) const {
    while (i < text_.size()) {
      char c = text_[i];
      if (backslash_escapes && c == '\\') {
        i += 2;
      } else if (c == quote) {
        if (i + 1 < text_.size() && text_[i + 1] == quote) {
          i += 2;
        } else {
          return i + 1;
        }
      } else {
        ++i;
      }
    }
    return text_.size();
  }

  // Past a $tag$...$tag$ string starting at `i`, or past the '$' when it does not open one
  // (a parameter such as $1).
  size_t DollarEnd(size_t i) const {
    size_t j = i + 1;
    if (j < text_.size() && IsIdentStart(text_[j])) {
      while (j < text_.size() && IsIdentChar(text_[j]) && text_[j] != '$') ++j;
    }
    if (j >= text_.size() || text_[j] != '$') return i + 1;
    std::string_view tag = text_.substr(i, j + 1 - i);
    size_t close = text_.find(tag, j + 1);
    return close == std::string_view::npos ? text_.size() : close + tag.size();
  }

  std::string_view text_;
  size_t i_ = 0;
};

// Byte offset of the 1-based character position `cursorpos` of libpg_query's errors.
size_t ByteOffsetOfCharacter(std::string_view text, int cursorpos) {
  size_t i = 0;
  for (int n = 1; n < cursorpos && i < text.size(); ++n) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}

// Line and column of increasing offsets, counted once over the text (not from its start for
// each statement, which was quadratic in the number of statements).
class LineCounter {
 public:
  explicit LineCounter(std::string_view text) : text_(text) {}
  LineColumn At(size_t offset) {
    for (; pos_ < offset && pos_ < text_.size(); ++pos_) {
      if (text_[pos_] == '\n') {
        ++line_;
        line_start_ = pos_ + 1;
      }
    }
    return {line_, static_cast<int>(offset - line_start_) + 1};
  }

 private:
  std::string_view text_;
  size_t pos_ = 0, line_start_ = 0;
  int line_ = 1;
};

// Above this, a chunk is parsed on its own; its parse tree is the peak of splitting.
constexpr size_t kChunkBytes = 256 * 1024;

// What one parse of a chunk says, whichever libpg_query entry point made it.
struct Attempt {
  const PgQueryError* error = nullptr;
  int statements = 0;
  // Where the chunk's last statement ends (its ';'), relative to the chunk; npos when it is
  // not ended by a ';' (libpg_query reports its length as 0 or as the rest of the input).
  size_t last_end = std::string_view::npos;
};

// The text is parsed in chunks of whole statements, never all at once: libpg_query's tree for
// a file takes about 14 times its size. CutFinder proposes where a chunk may end; a cut is kept
// only when the parser agrees that its ';' ends the chunk's last statement. Otherwise (a cut
// inside a BEGIN ATOMIC body, or one the lexer got wrong) the chunk grows and is parsed again.
// A syntax error before the chunk's last proposed statement is final: text after an error
// cannot change the parser's verdict on what came before.
//
// `parse(chunk)` parses and keeps its result; `take(begin, end)` consumes the result of the
// last parse, which covered text[begin, end); `drop()` frees it.
template <typename Parse, typename Take, typename Drop>
Status ForEachChunk(std::string_view text, Parse parse, Take take, Drop drop) {
  CutFinder cuts(text);
  size_t begin = 0;
  std::vector<size_t> pending;  // proposed cuts not yet taken, in order
  size_t next_cut = cuts.Next();
  while (begin < text.size()) {
    size_t want = kChunkBytes;
    while (true) {
      while (true) {
        size_t current = pending.empty() ? begin : pending.back();
        if (current - begin >= want || next_cut == std::string_view::npos) break;
        pending.push_back(next_cut);
        next_cut = cuts.Next();
      }
      bool final_chunk =
          pending.empty() || (pending.back() - begin < want && next_cut == std::string_view::npos);
      size_t end = final_chunk ? text.size() : pending.back();
      // Where the chunk's last proposed statement starts.
      size_t last_start = final_chunk ? (pending.empty() ? begin : pending.back())
                                      : (pending.size() >= 2 ? pending[pending.size() - 2] : begin);
      std::string chunk(text.substr(begin, end - begin));
      Attempt attempt = parse(chunk);
      if (attempt.error) {
        size_t at = attempt.error->cursorpos > 0
                        ? begin + ByteOffsetOfCharacter(chunk, attempt.error->cursorpos)
                        : end;
        if (at < last_start || final_chunk) {
          Status status = ErrorStatus(attempt.error, "");
          if (attempt.error->cursorpos > 0) {
            LineColumn lc = LineColumnAt(text, at);
            status.WithLocation({"", lc.line, lc.column});
          }
          drop();
          return status;
        }
      } else if (final_chunk || (attempt.statements > 0 && attempt.last_end == chunk.size() - 1)) {
        TANDEM_RETURN_IF_ERROR(take(begin, end));
        begin = end;
        pending.clear();
        break;
      }
      drop();
      want = 2 * (end - begin) + 1;  // grow geometrically: no quadratic re-parsing
    }
  }
  return Status::Ok();
}

}  // namespace

size_t StatementCountBound(std::string_view text) {
  CutFinder cuts(text);
  size_t n = 1;
  while (cuts.Next() != std::string_view::npos) ++n;
  return n;
}

Status ForEachStatement(std::string_view text,
                        const std::function<Status(const StatementSpan& statement)>& each) {
  LineCounter lines(text);
  PgQuerySplitResult result{};
  bool held = false;
  auto drop = [&] {
    if (held) pg_query_free_split_result(result);
    held = false;
  };
  auto parse = [&](const std::string& chunk) {
    drop();
    result = pg_query_split_with_parser(chunk.c_str());
    held = true;
    Attempt a;
    a.error = result.error;
    a.statements = result.error ? 0 : result.n_stmts;
    if (a.statements > 0) {
      const PgQuerySplitStmt* last = result.stmts[result.n_stmts - 1];
      size_t end = static_cast<size_t>(last->stmt_location + last->stmt_len);
      if (last->stmt_len > 0 && end < chunk.size() && chunk[end] == ';') a.last_end = end;
    }
    return a;
  };
  auto take = [&](size_t begin, size_t end) -> Status {
    Status status;
    for (int i = 0; i < result.n_stmts && status.ok(); ++i) {
      const PgQuerySplitStmt* stmt = result.stmts[i];
      size_t s_begin = begin + static_cast<size_t>(stmt->stmt_location);
      size_t s_end = s_begin + static_cast<size_t>(stmt->stmt_len);
      if (stmt->stmt_len == 0) s_end = end;  // the last statement may report length 0
      s_begin = SkipBlankAndComments(text, s_begin);
      if (s_begin >= s_end) continue;
      std::string_view body = text.substr(s_begin, s_end - s_begin);
      while (!body.empty() &&
             (std::isspace(static_cast<unsigned char>(body.back())) || body.back() == ';')) {
        body.remove_suffix(1);
      }
      if (body.empty()) continue;
      StatementSpan s;
      s.text = body;
      s.offset = s_begin;
      s.start = lines.At(s_begin);
      s.transaction_control = ClassifyTransactionControl(body);
      status = each(s);
    }
    drop();
    return status;
  };
  return ForEachChunk(text, parse, take, drop);
}

Result<std::vector<SplitStatement>> SplitStatements(std::string_view text) {
  std::vector<SplitStatement> out;
  TANDEM_RETURN_IF_ERROR(ForEachStatement(text, [&](const StatementSpan& span) {
    out.push_back({std::string(span.text), span.offset, span.start, span.transaction_control});
    return Status::Ok();
  }));
  return out;
}

namespace {

// The last RawStmt's stmt_location and stmt_len, read from the end of libpg_query's JSON
// ({"version":N,"stmts":[...,{"stmt":{...},"stmt_location":L,"stmt_len":N}]}; a zero is
// left out). False when there is no statement.
bool LastStatementExtent(std::string_view json, size_t& location, size_t& length) {
  if (!json.ends_with("}]}")) return false;
  json.remove_suffix(3);
  auto trailing_number = [&](std::string_view key, size_t& value) {
    size_t digits = json.size();
    while (digits > 0 && std::isdigit(static_cast<unsigned char>(json[digits - 1]))) --digits;
    value = 0;
    if (digits == json.size() || !json.substr(0, digits).ends_with(key)) return;
    value = std::stoul(std::string(json.substr(digits)));
    json = json.substr(0, digits - key.size());
  };
  trailing_number(",\"stmt_len\":", length);
  trailing_number(",\"stmt_location\":", location);
  return true;
}

}  // namespace

Status ParseToJsonInPieces(
    std::string_view text,
    const std::function<Status(size_t offset, std::string_view piece, std::string& json)>& each) {
  PgQueryParseResult result{};
  bool held = false;
  auto drop = [&] {
    if (held) pg_query_free_parse_result(result);
    held = false;
  };
  auto parse = [&](const std::string& chunk) {
    drop();
    result = pg_query_parse(chunk.c_str());
    held = true;
    Attempt a;
    a.error = result.error;
    size_t location = 0, length = 0;
    if (!result.error && result.parse_tree &&
        LastStatementExtent(result.parse_tree, location, length)) {
      a.statements = 1;
      if (length > 0 && location + length < chunk.size() && chunk[location + length] == ';') {
        a.last_end = location + length;
      }
    }
    return a;
  };
  auto take = [&](size_t begin, size_t end) -> Status {
    std::string json = result.parse_tree ? result.parse_tree : "";
    drop();
    return each(begin, text.substr(begin, end - begin), json);
  };
  return ForEachChunk(text, parse, take, drop);
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
