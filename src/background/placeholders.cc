#include "background/placeholders.h"

#include <cctype>

#include "sql/parser.h"

namespace tandem::background {
namespace {

bool IdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

Status At(std::string_view sql, size_t offset, std::string message, std::string hint) {
  sql::LineColumn where = sql::LineColumnAt(sql, offset);
  // The location without a file: the caller knows where the section starts in its file.
  return Status::InvalidInput(std::move(message) + " (line " + std::to_string(where.line) + ")")
      .WithHint(std::move(hint))
      .WithLocation({FilePath(), where.line, where.column});
}

}  // namespace

Result<BoundStatement> BindPlaceholders(std::string_view sql, int key_columns) {
  auto params = [key_columns](int first) {
    if (key_columns <= 1) return "$" + std::to_string(first);
    std::string row = "(";
    for (int i = 0; i < key_columns; ++i) {
      if (i) row += ", ";
      row += "$" + std::to_string(first + i);
    }
    return row + ")";
  };
  BoundStatement out;
  out.sql.reserve(sql.size());
  size_t i = 0;
  auto copy_until = [&](size_t end) {
    out.sql.append(sql.substr(i, end - i));
    i = end;
  };
  while (i < sql.size()) {
    char c = sql[i];
    if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      copy_until(end == std::string_view::npos ? sql.size() : end);
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      // Block comments nest in PostgreSQL.
      size_t j = i + 2;
      int depth = 1;
      while (j < sql.size() && depth > 0) {
        if (sql.compare(j, 2, "/*") == 0) {
          ++depth;
          j += 2;
        } else if (sql.compare(j, 2, "*/") == 0) {
          --depth;
          j += 2;
        } else {
          ++j;
        }
      }
      copy_until(j);
    } else if (c == '\'' || c == '"') {
      // E'..' strings may escape the quote with a backslash; doubled quotes work everywhere.
      bool escapes = c == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                     (i < 2 || !IdentChar(sql[i - 2]));
      size_t j = i + 1;
      while (j < sql.size()) {
        if (escapes && sql[j] == '\\') {
          j += 2;
          continue;
        }
        if (sql[j] == c) {
          if (j + 1 < sql.size() && sql[j + 1] == c) {
            j += 2;
            continue;
          }
          ++j;
          break;
        }
        ++j;
      }
      copy_until(std::min(j, sql.size()));
    } else if (c == '$' && (i == 0 || !IdentChar(sql[i - 1]))) {
      size_t j = i + 1;
      while (j < sql.size() && IdentChar(sql[j]) &&
             !(j == i + 1 && std::isdigit(static_cast<unsigned char>(sql[j])))) {
        ++j;
      }
      if (j < sql.size() && sql[j] == '$') {
        std::string_view tag = sql.substr(i, j - i + 1);
        size_t close = sql.find(tag, j + 1);
        copy_until(close == std::string_view::npos ? sql.size() : close + tag.size());
      } else if (i + 1 < sql.size() && std::isdigit(static_cast<unsigned char>(sql[i + 1]))) {
        return At(sql, i, "a background migration cannot use $n parameters",
                  "use :batch_start and :batch_end; tandem binds them as $1 and $2");
      } else {
        copy_until(i + 1);
      }
    } else if (c == ':' && i + 1 < sql.size() && sql[i + 1] == ':') {
      copy_until(i + 2);  // a cast
    } else if (c == ':' && i + 1 < sql.size() &&
               (std::isalpha(static_cast<unsigned char>(sql[i + 1])) || sql[i + 1] == '_')) {
      size_t j = i + 1;
      while (j < sql.size() && IdentChar(sql[j])) ++j;
      std::string_view name = sql.substr(i + 1, j - i - 1);
      if (name == "batch_start") {
        out.sql += params(1);
        out.has_start = true;
        out.uses.push_back({i, false});
      } else if (name == "batch_end") {
        out.sql += params(key_columns <= 1 ? 2 : key_columns + 1);
        out.has_end = true;
        out.uses.push_back({i, true});
      } else {
        return At(sql, i,
                  "unknown placeholder :" + std::string(name) + " in a background migration",
                  "the placeholders are :batch_start and :batch_end");
      }
      i = j;
    } else {
      copy_until(i + 1);
    }
  }
  // Where the statements start in the text as written (the binding changed no line breaks).
  auto written = sql::SplitStatements(sql);
  const std::vector<sql::SplitStatement>* where = written.ok() ? &*written : nullptr;
  auto statement_at = [&](size_t i) -> SourceLocation {
    if (!where || where->size() <= i) return {FilePath(), 1, 1};
    return {FilePath(), (*where)[i].start.line, (*where)[i].start.column};
  };
  if (!out.has_start && !out.has_end) {
    return Status::InvalidInput(
               "a background migration must use :batch_start and :batch_end in its statement")
        .WithDetail(
            "the worker runs it one key range at a time; without the placeholders every batch "
            "would touch the whole table")
        .WithHint("add WHERE key >= :batch_start AND key < :batch_end (see docs/background.md)")
        .WithLocation(statement_at(0));
  }
  // Through the one parser door: exactly one statement, without its comments and semicolon.
  TANDEM_ASSIGN_OR_RETURN(auto statements, sql::SplitStatements(out.sql));
  if (!where) {
    // The placeholders kept the text as written from splitting; the bound text has the same
    // lines (a column may differ by the placeholders' lengths).
    where = &statements;
  }
  if (statements.size() != 1) {
    return Status::InvalidInput("a background migration must be exactly one statement, not " +
                                std::to_string(statements.size()))
        .WithHint("put each data change in its own background migration")
        .WithLocation(statement_at(1));
  }
  out.sql = statements.front().text;
  return out;
}

Status CheckRangeOperators(std::string_view sql, const BoundStatement& bound, bool closed) {
  auto space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  for (const auto& use : bound.uses) {
    // The operator just before the placeholder (`id < :batch_end`) and just after it
    // (`:batch_end > id`), without the blanks between.
    size_t b = use.offset;
    while (b > 0 && space(sql[b - 1])) --b;
    std::string before;
    while (b > 0 && std::string_view("<>=!").find(sql[b - 1]) != std::string_view::npos) {
      before.insert(before.begin(), sql[--b]);
    }
    size_t a = use.offset + 1;
    while (a < sql.size() && IdentChar(sql[a])) ++a;
    while (a < sql.size() && space(sql[a])) ++a;
    std::string after;
    while (a < sql.size() && std::string_view("<>=!").find(sql[a]) != std::string_view::npos) {
      after += sql[a++];
    }
    std::string name = use.end ? ":batch_end" : ":batch_start";
    bool wrong = false;
    std::string want;
    if (use.end && !closed) {
      wrong = before == "<=" || after == ">=";
      want = "key < :batch_end (the range is half-open: :batch_end is the next batch's first key)";
    } else if (use.end && closed) {
      wrong = before == "<" || after == ">";
      want =
          "key <= :batch_end (text and composite keys are batched in closed ranges: "
          ":batch_end is the batch's last key)";
    } else {
      wrong = before == ">" || after == "<";
      want = "key >= :batch_start (:batch_start is the batch's first key)";
    }
    if (wrong) {
      std::string op = before.empty() ? after : before;
      return At(sql, use.offset,
                "the comparison " + op + " with " + name +
                    " skips or repeats the rows on batch "
                    "boundaries",
                "write " + want + "; see docs/background.md");
    }
  }
  return Status::Ok();
}

}  // namespace tandem::background
