// identifier-too-long: a name longer than 63 bytes given to a new object. PostgreSQL keeps the
// first 63 bytes with only a NOTICE, so the object is not called what the migration says: a
// catalog lookup or ORM comparison by the full name finds nothing, and two names that share
// their first 63 bytes collide. The parse tree holds the cut name; the statement's text has the
// full one (sql/identifiers.h).
#include <algorithm>
#include <set>

#include "lint/rules/helpers.h"
#include "lint/rules/rules.h"
#include "sql/identifiers.h"

namespace tandem::lint::rules {
namespace {

struct NewName {
  const char* what;
  const std::string* name;
};

// The names the statement gives to new objects, as the model has them (already cut).
std::vector<NewName> NewNames(const sql::Statement& st) {
  using K = sql::StatementKind;
  std::vector<NewName> out;
  auto constraints = [&](const std::vector<sql::Constraint>& list) {
    for (const auto& k : list) out.push_back({"constraint", &k.name});
  };
  auto column = [&](const sql::ColumnDef& col) {
    out.push_back({"column", &col.name});
    constraints(col.constraints);
  };
  switch (st.kind) {
    case K::kCreateTable:
    case K::kCreateTableAs:
      out.push_back({"table", &st.relation.name});
      for (const auto& col : st.columns) column(col);
      constraints(st.table_constraints);
      break;
    case K::kAlterTable:
      for (const auto& cmd : st.cmds) {
        if (cmd.action == sql::AlterAction::kAddColumn) column(cmd.column_def);
        if (cmd.action == sql::AlterAction::kAddConstraint)
          out.push_back({"constraint", &cmd.constraint.name});
      }
      break;
    case K::kCreateIndex:
      out.push_back({"index", &st.index_name});
      break;
    case K::kRenameTable:
    case K::kRenameColumn:
    case K::kRenameOther:
      out.push_back({"new name", &st.new_name});
      break;
    case K::kCreateEnum:
      out.push_back({"type", &st.relation.name});
      break;
    case K::kCreateDomain:
      out.push_back({"domain", &st.relation.name});
      constraints(st.table_constraints);
      break;
    case K::kCreateSequence:
      out.push_back({"sequence", &st.relation.name});
      break;
    case K::kCreateView:
      out.push_back({"view", &st.relation.name});
      break;
    default:
      break;
  }
  return out;
}

// `sql` as a recipe: whole when short, else its first line, the line at `offset` and its last
// line, with "..." for what is left out (a long CREATE TABLE shrinks to the column that matters).
std::string Shortened(const std::string& sql, size_t offset) {
  std::vector<std::string> lines;
  size_t target = 0;
  for (size_t start = 0; start <= sql.size();) {
    size_t end = std::min(sql.find('\n', start), sql.size());
    if (offset >= start && offset <= end) target = lines.size();
    lines.push_back(sql.substr(start, end - start));
    start = end + 1;
  }
  if (lines.size() <= 3) return sql + ";";
  std::string out = lines.front() + "\n";
  if (target > 1) out += "    ...\n";
  if (target > 0 && target + 1 < lines.size()) out += lines[target] + "\n";
  if (target + 2 < lines.size()) out += "    ...\n";
  return out + lines.back() + ";";
}

void Check(const RuleContext& c) {
  const auto& st = c.statement;
  std::vector<NewName> names = NewNames(st);
  // A cut name is 63 bytes, or down to 60 when the cut falls inside a UTF-8 character: only
  // then is the text worth scanning.
  bool candidate = false;
  for (const auto& n : names) candidate |= n.name->size() >= sql::kMaxIdentifierBytes - 3;
  if (!candidate) return;
  std::vector<sql::LongIdentifier> written = sql::FindLongIdentifiers(st.text);
  std::set<std::string> reported;
  for (const auto& n : names) {
    if (reported.count(*n.name)) continue;
    for (const auto& w : written) {
      if (w.truncated != *n.name) continue;
      reported.insert(*n.name);
      // The statement with the name PostgreSQL would keep, quoted or not as it was written.
      std::string kept = "\"";
      if (w.written.front() == '"') {
        for (char ch : w.truncated) kept += ch == '"' ? "\"\"" : std::string(1, ch);
        kept += "\"";
      } else {
        kept = w.written.substr(0, w.truncated.size());  // the author's case; folding keeps sizes
      }
      std::string fixed = st.text;
      fixed.replace(w.offset, w.written.size(), kept);
      c.Report(kIdentifierTooLong, st.offset + w.offset,
               std::string(n.what) + " name \"" + w.name + "\" is " +
                   std::to_string(w.name.size()) + " bytes; PostgreSQL truncates it to \"" +
                   w.truncated + "\"",
               "-- a name of at most 63 bytes, e.g. the one PostgreSQL would keep:\n" +
                   Shortened(fixed, w.offset),
               w.written.size());
      break;
    }
  }
}

}  // namespace

const Rule kIdentifierTooLong = {
    "identifier-too-long",
    Severity::kWarning,
    "a table, column, index, constraint, sequence, view, type or new name longer than 63 bytes",
    "PostgreSQL silently cuts the name to 63 bytes, so lookups by the full name (catalog "
    "queries, ORM schema checks) find nothing and two names sharing their first 63 bytes collide",
    "none",
    "nothing",
    "all (NAMEDATALEN 64, the default build)",
    "CREATE INDEX orders_customer_id_created_at_idx ON orders (customer_id, created_at);",
    "CREATE INDEX orders_customer_id_created_at_status_shipping_country_region_idx ON orders "
    "(customer_id, created_at, status, shipping_country, shipping_region);",
    &Check,
};

}  // namespace tandem::lint::rules
