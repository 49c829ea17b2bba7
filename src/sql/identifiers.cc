// Finding over-long identifiers (see identifiers.h). The token rules follow PostgreSQL's
// scan.l: identifiers start with a letter, `_` or a non-ASCII byte and go on with those,
// digits and `$`; "quoted" identifiers double an embedded quote; strings are '...' (E'...'
// with backslash escapes); $tag$ ... $tag$ bodies and comments (/* */ nest) are skipped.
#include "sql/identifiers.h"

#include <algorithm>

#include "sql/parser.h"

namespace tandem::sql {
namespace {

bool IdentStart(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}
bool IdentChar(unsigned char c) { return IdentStart(c) || (c >= '0' && c <= '9') || c == '$'; }

// PostgreSQL's truncate_identifier under UTF-8: at most 63 bytes, never half a character.
std::string Truncate(std::string name) {
  if (name.size() <= kMaxIdentifierBytes) return name;
  size_t cut = kMaxIdentifierBytes;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  name.resize(cut);
  return name;
}

// The index past the end of the dollar-quoted body whose opening tag starts at `i`, or `i`
// when no tag starts there ($1 is a parameter).
size_t SkipDollarQuoted(std::string_view sql, size_t i) {
  size_t j = i + 1;
  if (j < sql.size() && IdentStart(static_cast<unsigned char>(sql[j]))) {
    while (j < sql.size() && IdentChar(static_cast<unsigned char>(sql[j])) && sql[j] != '$') ++j;
  }
  if (j >= sql.size() || sql[j] != '$') return i;
  std::string_view tag = sql.substr(i, j + 1 - i);
  size_t close = sql.find(tag, j + 1);
  return close == std::string_view::npos ? sql.size() : close + tag.size();
}

}  // namespace

std::vector<LongIdentifier> FindLongIdentifiers(std::string_view sql) {
  std::vector<LongIdentifier> out;
  size_t i = 0;
  while (i < sql.size()) {
    unsigned char c = static_cast<unsigned char>(sql[i]);
    if (sql.compare(i, 2, "--") == 0) {
      size_t nl = sql.find('\n', i);
      i = nl == std::string_view::npos ? sql.size() : nl + 1;
    } else if (sql.compare(i, 2, "/*") == 0) {
      i = std::min(BlockCommentEnd(sql, i), sql.size());
    } else if (c == '\'') {
      bool backslash = i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e');
      for (++i; i < sql.size(); ++i) {
        if (backslash && sql[i] == '\\') {
          ++i;
        } else if (sql[i] == '\'') {
          if (i + 1 < sql.size() && sql[i + 1] == '\'') {
            ++i;
          } else {
            break;
          }
        }
      }
      ++i;
    } else if (c == '$') {
      size_t end = SkipDollarQuoted(sql, i);
      i = end == i ? i + 1 : end;
    } else if (c == '"') {
      size_t start = i;
      std::string name;
      for (++i; i < sql.size(); ++i) {
        if (sql[i] == '"') {
          if (i + 1 < sql.size() && sql[i + 1] == '"') {
            ++i;
          } else {
            break;
          }
        }
        name += sql[i];
      }
      i = std::min(i + 1, sql.size());
      if (name.size() > kMaxIdentifierBytes) {
        out.push_back({std::string(sql.substr(start, i - start)), name, Truncate(name), start});
      }
    } else if (IdentStart(c)) {
      size_t start = i;
      while (i < sql.size() && IdentChar(static_cast<unsigned char>(sql[i]))) ++i;
      // E'...', B'...', X'...', N'...' and U&'...' are string constants, not identifiers.
      if (i < sql.size() && sql[i] == '\'') continue;
      if (i - start > kMaxIdentifierBytes) {
        std::string name(sql.substr(start, i - start));
        for (auto& ch : name) {
          if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
        }
        out.push_back({std::string(sql.substr(start, i - start)), name, Truncate(name), start});
      }
    } else if (c >= '0' && c <= '9') {
      // A number, possibly with letters after it (1e10, 0x1F): not an identifier.
      while (i < sql.size() && IdentChar(static_cast<unsigned char>(sql[i]))) ++i;
    } else {
      ++i;
    }
  }
  return out;
}

}  // namespace tandem::sql
