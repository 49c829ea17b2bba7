// Blanks within one line of a migration file (the line has no newline), for the readers of
// directives and section markers.
#pragma once

#include <cstddef>
#include <string_view>

namespace tandem::migrate {

inline bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// `i` moved past blanks.
inline size_t SkipBlanks(std::string_view s, size_t i) {
  while (i < s.size() && IsBlank(s[i])) ++i;
  return i;
}

// The end of the token (the run of non-blanks) that starts at `i`.
inline size_t TokenEnd(std::string_view s, size_t i) {
  while (i < s.size() && !IsBlank(s[i])) ++i;
  return i;
}

}  // namespace tandem::migrate
