// Text that came from outside (file names, file contents) made safe to print, and the UTF-8
// check that migration files pass before anything is sent to the server.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tandem {

// `text` with every control character escaped, so that a file name with a newline stays one
// line of text output and cannot move the cursor of a terminal: \n, \r, \t as such, the other
// C0 controls, DEL and C1 controls as \xNN; bytes that are not UTF-8 as \xNN. Everything else,
// including multi-byte UTF-8 and the backslash itself, is unchanged. JSON output escapes with
// its own rules and does not need this.
std::string Printable(std::string_view text);

// Printable for text of several lines: each line escaped, the line breaks kept.
std::string PrintableLines(std::string_view text);

// Whether `text` needs Printable (cheap: most text does not).
bool NeedsPrintable(std::string_view text);

// The byte offset of the first byte of `text` that does not start a well-formed UTF-8
// character (overlong forms, surrogates and code points above U+10FFFF included, as PostgreSQL
// refuses them), or npos when all of it is well-formed.
size_t FindInvalidUtf8(std::string_view text);

// Length of the well-formed UTF-8 character at text[i], or 0 when it is not one.
size_t Utf8CharLength(std::string_view text, size_t i);

}  // namespace tandem
