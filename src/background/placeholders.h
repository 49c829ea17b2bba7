// The `:batch_start` / `:batch_end` placeholders of a background migration, bound as parameters.
//
// The statement is never built by pasting values into it: the placeholders are rewritten to $1
// and $2 and the batch's bounds sent as bound parameters. The scan skips string literals (with
// E'' escapes), quoted identifiers, dollar-quoted bodies, comments and `::` casts, so a
// placeholder-looking word inside any of them is left alone.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace tandem::background {

struct BoundStatement {
  std::string sql;         // the statement with $1 for :batch_start and $2 for :batch_end
  bool has_start = false;  // :batch_start appears
  bool has_end = false;    // :batch_end appears
  struct Use {
    size_t offset = 0;  // of the ':' in the text given to BindPlaceholders
    bool end = false;   // :batch_end (else :batch_start)
  };
  std::vector<Use> uses;
};

// kInvalidInput (naming the line) when the statement uses neither placeholder, uses another
// `:name`, or already holds $n parameters (which would collide with the bounds).
// With `key_columns` > 1 (a composite key) each placeholder becomes a row of parameters:
// :batch_start is ($1, $2, ...) and :batch_end ($n+1, ...), for `(a, b) >= :batch_start`.
Result<BoundStatement> BindPlaceholders(std::string_view sql, int key_columns = 1);

// The comparison written next to each placeholder, against the kind of range the worker binds:
// half-open ranges (`>= :batch_start AND < :batch_end`: integer, uuid, ... keys and ctid) or
// closed ones (`>= :batch_start AND <= :batch_end`: text and composite keys, whose batches end
// at their last key). kInvalidInput, naming the line, for an operator that would skip rows or
// run a boundary row twice (`<= :batch_end` on a half-open range, `< :batch_end` or
// `> :batch_start` on a closed one).
Status CheckRangeOperators(std::string_view sql, const BoundStatement& bound, bool closed);

}  // namespace tandem::background
