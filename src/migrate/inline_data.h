// What a section holds besides SQL, found by a lexical scan before the parser sees it: the rows
// of `COPY ... FROM STDIN` written inline (as pg_dump writes seed data, ended by a `\.` line),
// and psql meta-commands (`\set`, `\i`, `\connect`, ...), which are not SQL.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tandem::migrate {

// Inline COPY rows in a section's text. Offsets are bytes into the text; every boundary is at
// the start of a line.
struct InlineData {
  size_t sql_end = 0;     // the end of the line holding the COPY statement's semicolon
  size_t data_begin = 0;  // the first row (== sql_end)
  size_t data_end = 0;    // the start of the `\.` line
  size_t resume = 0;      // the line after `\.`: where SQL continues
  int copy_line = 0;      // the line of the `COPY` keyword (1-based, in the text)
};

// Scans `text` (a section, starting at column 1 of line 1) the way PostgreSQL's lexer reads
// quotes, dollar quotes and comments. kInvalidInput, with the line and column in `text` (no
// file), for a psql meta-command outside COPY rows ("psql meta-command \"\\set\" is not SQL"),
// for SQL after the semicolon of a COPY ... FROM STDIN on its line, and for COPY rows with no
// `\.` line after them.
Result<std::vector<InlineData>> FindInlineData(std::string_view text);

// `text` with the rows and `\.` line of every inline COPY blanked (each byte but newlines
// becomes a space), so that positions stay where they were: for readers that parse the SQL
// (lint) and must not see the rows. Returns `text` unchanged when it holds no backslash.
std::string BlankInlineData(std::string_view text);

}  // namespace tandem::migrate
