// The `:batch_start` / `:batch_end` placeholders of a background migration, bound as parameters.
//
// The statement is never built by pasting values into it: the placeholders are rewritten to $1
// and $2 and the batch's bounds sent as bound parameters. The scan skips string literals (with
// E'' escapes), quoted identifiers, dollar-quoted bodies, comments and `::` casts, so a
// placeholder-looking word inside any of them is left alone.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace tandem::background {

struct BoundStatement {
  std::string sql;         // the statement with $1 for :batch_start and $2 for :batch_end
  bool has_start = false;  // :batch_start appears
  bool has_end = false;    // :batch_end appears
};

// kInvalidInput (naming the line) when the statement uses neither placeholder, uses another
// `:name`, or already holds $n parameters (which would collide with the bounds).
Result<BoundStatement> BindPlaceholders(std::string_view sql);

}  // namespace tandem::background
