// The dual-write trigger of an expand/contract migration: while the old and the new app run side
// by side, each row keeps a column of the old shape and its successor in step, whichever app
// wrote it. One PL/pgSQL function and one trigger per table cover every pair of columns.
//
// How the trigger decides, per row and per pair (no session setting, no search_path test):
//   INSERT  new side NULL                      -> new := forward(old)   (the old app wrote)
//           old side NULL                      -> old := backward(new)  (the new app wrote)
//           both set, new = forward(old)       -> nothing (consistent)
//           both set, they disagree            -> old := backward(new)  (the new side wins)
//   UPDATE  old changed, new did not           -> new := forward(old)
//           new changed, old did not           -> old := backward(new), unless new already
//                                                 equals forward(old): the backfill's own write
//                                                 (SET new = forward(old)) leaves old untouched
//           both changed                       -> as INSERT with both set
//           neither changed (SET name = name)  -> nothing
// "changed" is IS DISTINCT FROM, so NULLs count as values. The trigger is BEFORE INSERT OR
// UPDATE OF the pairs' columns, so an UPDATE whose SET list names none of them never calls
// the function. For INSERT the rule needs the successor to have no default while both apps
// run (the old column keeps its default; the trigger derives the successor's value from it).
// A pair without backward_sql cannot derive the old column: a write that would need it fails
// with SQLSTATE 0A000 and a message naming both columns.
//
// The statements take SHARE ROW EXCLUSIVE on the table (CREATE TRIGGER) or ACCESS EXCLUSIVE
// (DROP TRIGGER): run them under lock_timeout. Both lists are idempotent: running them again
// after a crash, or twice, leaves the same state.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"

namespace tandem::expand {

struct ColumnPair {          // one column of the old shape and its successor
  std::string old_column;    // e.g. "name"
  std::string new_column;    // e.g. "_tandem_full_name" or "full_name"
  std::string forward_sql;   // expression computing new from old, in terms of NEW.<old>; e.g.
                             // "NEW.\"name\"" or "(NEW.\"price\")::numeric"
  std::string backward_sql;  // expression computing old from new; empty = old cannot be derived
                             // (a write that needs it is refused)
};

struct DualWriteSpec {
  std::string schema, table, trigger_name, function_name;
  std::vector<ColumnPair> columns;
  // The server's version (server_version_num). Below 140000 there is no CREATE OR REPLACE
  // TRIGGER, so the trigger is replaced by a DROP and CREATE inside one DO block instead.
  int server_version_num = 150000;
};

// Checks what the generator relies on: names set, at least one pair, each pair's columns set
// and distinct, forward_sql set, no column in two pairs. InvalidInput otherwise.
Status CheckDualWriteSpec(const DualWriteSpec& spec);

// CREATE OR REPLACE FUNCTION + CREATE TRIGGER (BEFORE INSERT OR UPDATE OF the pairs' columns,
// FOR EACH ROW) statements, idempotent. Empty when CheckDualWriteSpec fails.
std::vector<std::string> CreateDualWriteSql(const DualWriteSpec& spec);

// DROP TRIGGER IF EXISTS + DROP FUNCTION IF EXISTS, idempotent (also when the table is gone).
std::vector<std::string> DropDualWriteSql(const DualWriteSpec& spec);

// The body of the PL/pgSQL function alone (what CreateDualWriteSql wraps), for tests and plans.
std::string DualWriteFunctionBody(const DualWriteSpec& spec);

}  // namespace tandem::expand
