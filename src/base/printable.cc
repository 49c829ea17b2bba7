#include "base/printable.h"

#include <cstdint>
#include <cstdio>

namespace tandem {

size_t Utf8CharLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  auto continuation = [&](size_t k) { return k < text.size() && (byte(k) & 0xC0) == 0x80; };
  uint8_t b = byte(i);
  if (b < 0x80) return 1;
  if (b < 0xC2) return 0;  // a continuation byte, or an overlong two-byte lead
  if (b < 0xE0) return continuation(i + 1) ? 2 : 0;
  if (b < 0xF0) {
    if (!continuation(i + 1) || !continuation(i + 2)) return 0;
    uint8_t b1 = byte(i + 1);
    if (b == 0xE0 && b1 < 0xA0) return 0;   // overlong
    if (b == 0xED && b1 >= 0xA0) return 0;  // UTF-16 surrogates
    return 3;
  }
  if (b < 0xF5) {
    if (!continuation(i + 1) || !continuation(i + 2) || !continuation(i + 3)) return 0;
    uint8_t b1 = byte(i + 1);
    if (b == 0xF0 && b1 < 0x90) return 0;   // overlong
    if (b == 0xF4 && b1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

std::string PrintableLines(std::string_view text) {
  if (!NeedsPrintable(text)) return std::string(text);
  std::string out;
  while (true) {
    size_t eol = text.find('\n');
    out += Printable(text.substr(0, eol));
    if (eol == std::string_view::npos) return out;
    out += '\n';
    text.remove_prefix(eol + 1);
  }
}

size_t FindInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    // ASCII runs are the common case: skip them without the decoder.
    if (static_cast<uint8_t>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t n = Utf8CharLength(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

namespace {

bool IsControl(uint8_t b) { return b < 0x20 || b == 0x7F; }

// C1 controls are U+0080..U+009F, encoded C2 80..C2 9F.
bool IsC1(std::string_view text, size_t i, size_t n) {
  return n == 2 && static_cast<uint8_t>(text[i]) == 0xC2 &&
         static_cast<uint8_t>(text[i + 1]) < 0xA0;
}

void AppendHex(std::string& out, uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02X", b);
  out += buf;
}

}  // namespace

bool NeedsPrintable(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    uint8_t b = static_cast<uint8_t>(text[i]);
    if (b < 0x80) {
      if (IsControl(b)) return true;
      ++i;
      continue;
    }
    size_t n = Utf8CharLength(text, i);
    if (n == 0 || IsC1(text, i, n)) return true;
    i += n;
  }
  return false;
}

std::string Printable(std::string_view text) {
  if (!NeedsPrintable(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  for (size_t i = 0; i < text.size();) {
    uint8_t b = static_cast<uint8_t>(text[i]);
    if (b < 0x80) {
      if (b == '\n') {
        out += "\\n";
      } else if (b == '\r') {
        out += "\\r";
      } else if (b == '\t') {
        out += "\\t";
      } else if (IsControl(b)) {
        AppendHex(out, b);
      } else {
        out.push_back(static_cast<char>(b));
      }
      ++i;
      continue;
    }
    size_t n = Utf8CharLength(text, i);
    if (n == 0) {
      AppendHex(out, b);
      ++i;
    } else if (IsC1(text, i, n)) {
      AppendHex(out, static_cast<uint8_t>(text[i]));
      AppendHex(out, static_cast<uint8_t>(text[i + 1]));
      i += n;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

}  // namespace tandem
