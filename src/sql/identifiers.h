// Identifiers as PostgreSQL's scanner reads them, for what the parse tree cannot tell: the
// scanner keeps only the first 63 bytes (NAMEDATALEN - 1) of a longer identifier, with a
// NOTICE, so every name in the statement model is already cut; only the text has it in full.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::sql {

inline constexpr size_t kMaxIdentifierBytes = 63;

// An identifier written longer than kMaxIdentifierBytes.
struct LongIdentifier {
  std::string written;    // as written, quotes included
  std::string name;       // as PostgreSQL reads it: unquoted folded to lowercase, quotes removed
  std::string truncated;  // what PostgreSQL keeps: `name` cut to 63 bytes, never inside a
                          // UTF-8 character
  size_t offset = 0;      // of `written` in the scanned text
};

// The identifiers in `sql` longer than kMaxIdentifierBytes, skipping comments, string
// constants and dollar-quoted bodies. Keywords are never that long, so every word found is
// an identifier.
std::vector<LongIdentifier> FindLongIdentifiers(std::string_view sql);

}  // namespace tandem::sql
