#include "base/json_text.h"

#include <cstdint>
#include <cstdio>
#include <cstring>

#include "base/printable.h"

namespace tandem {

namespace {

bool NeedsEscape(char c) { return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20; }

// Whether any of the 8 bytes of `word` needs escaping: a control character, '"' or '\\'. The
// classic bit tricks (a zero byte test on word ^ '""""""""', a below-0x20 test); used to skip
// plain text 8 bytes at a time, since lint's JSON output is megabytes of mostly plain text.
bool AnyNeedsEscape(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighs;
  return below_space || has_zero(word ^ (kOnes * '"')) || has_zero(word ^ (kOnes * '\\'));
}

// `value` with each byte that does not start a well-formed UTF-8 character replaced by U+FFFD.
// File names come from the file system, where any byte goes; a JSON text must be UTF-8.
std::string ReplaceInvalidUtf8(std::string_view value) {
  std::string repaired;
  repaired.reserve(value.size() + 8);
  for (size_t i = 0; i < value.size();) {
    size_t n = static_cast<unsigned char>(value[i]) < 0x80 ? 1 : Utf8CharLength(value, i);
    if (n == 0) {
      repaired += "\xEF\xBF\xBD";
      ++i;
    } else {
      repaired.append(value, i, n);
      i += n;
    }
  }
  return repaired;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view value) {
  if (FindInvalidUtf8(value) != std::string_view::npos) {
    AppendJsonString(out, ReplaceInvalidUtf8(value));
    return;
  }
  out.push_back('"');
  // Most text needs no escaping: copy each run of plain characters at once.
  size_t run = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    while (i + 8 <= value.size()) {
      uint64_t word;
      std::memcpy(&word, value.data() + i, 8);
      if (AnyNeedsEscape(word)) break;
      i += 8;
    }
    if (i >= value.size()) break;
    char c = value[i];
    if (!NeedsEscape(c)) continue;
    out.append(value.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
        out += buf;
    }
  }
  out.append(value.data() + run, value.size() - run);
  out.push_back('"');
}

}  // namespace tandem
