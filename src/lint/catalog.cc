// Reading the schema model from pg_catalog (see catalog.h).
#include "lint/catalog.h"

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <regex>
#include <tuple>

#include "migrate/history.h"

namespace tandem::lint {
namespace {

std::string Key(const std::string& schema, const std::string& name) {
  return schema == "public" ? name : schema + "." + name;
}

constexpr const char* kUserRelations =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";

}  // namespace

PgVersion ServerVersion(const pg::Connection& connection) {
  int num = connection.server_version_num();
  PgVersion v;
  v.major = num / 10000;
  v.minor = num % 10000;
  return v;
}

Result<Schema> ReadCatalog(pg::Connection& connection) {
  Schema schema;
  TANDEM_ASSIGN_OR_RETURN(
      pg::QueryResult tables,
      connection.Query(std::string("SELECT n.nspname, c.relname, c.relkind = 'p' FROM pg_class c "
                                   "JOIN pg_namespace n ON n.oid = c.relnamespace "
                                   "WHERE c.relkind IN ('r', 'p') AND ") +
                       kUserRelations));
  for (size_t r = 0; r < tables.rows(); ++r) {
    schema.AddTable(Key(tables.Get(r, 0), tables.Get(r, 1))).partitioned = tables.GetBool(r, 2);
  }
  TANDEM_ASSIGN_OR_RETURN(
      pg::QueryResult columns,
      connection.Query(
          std::string(
              "SELECT n.nspname, c.relname, a.attname, t.typname, a.atttypmod, a.attnotnull, "
              "a.atthasdef, a.attndims > 0 OR t.typcategory = 'A' FROM pg_attribute a "
              "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
              "JOIN pg_type t ON t.oid = a.atttypid "
              "WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND ") +
          kUserRelations));
  for (size_t r = 0; r < columns.rows(); ++r) {
    ColumnInfo col;
    std::string type = columns.Get(r, 3);
    if (!type.empty() && type[0] == '_') type = type.substr(1);  // array element type
    col.type.name = type;
    col.type.is_array = columns.GetBool(r, 7);
    // atttypmod decoded per type into the modifiers a migration writes (-1: none). Character
    // and numeric typmods include the 4-byte varlena header; bit lengths and time precisions
    // are stored as they are.
    long long typmod = columns.GetInt(r, 4);
    if (typmod >= 4 && (type == "varchar" || type == "bpchar")) {
      col.type.modifiers = {static_cast<int>(typmod - 4)};
    } else if (typmod >= 4 && type == "numeric") {
      col.type.modifiers = {static_cast<int>(((typmod - 4) >> 16) & 0xffff),
                            static_cast<int>((typmod - 4) & 0xffff)};
    } else if (typmod >= 0 && (type == "bit" || type == "varbit" || type == "timestamp" ||
                               type == "timestamptz" || type == "time" || type == "timetz")) {
      col.type.modifiers = {static_cast<int>(typmod)};
    }
    col.not_null = columns.GetBool(r, 5);
    col.has_default = columns.GetBool(r, 6);
    schema.AddTable(Key(columns.Get(r, 0), columns.Get(r, 1))).columns[columns.Get(r, 2)] = col;
  }
  TANDEM_ASSIGN_OR_RETURN(
      pg::QueryResult constraints,
      connection.Query(
          std::string("SELECT n.nspname, c.relname, k.conname, k.contype, k.convalidated, "
                      "pg_get_constraintdef(k.oid), coalesce(k.confrelid::regclass::text, '') "
                      "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                      "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ") +
          kUserRelations));
  static const std::regex kNotNullCheck(
      R"re(^CHECK \(\(?"?([^" ()]+)"? IS NOT NULL\)?\)( NOT VALID)?$)re");
  for (size_t r = 0; r < constraints.rows(); ++r) {
    ConstraintInfo info;
    std::string type = constraints.Get(r, 3);
    info.kind = type == "c"   ? sql::ConstraintKind::kCheck
                : type == "f" ? sql::ConstraintKind::kForeignKey
                : type == "u" ? sql::ConstraintKind::kUnique
                : type == "p" ? sql::ConstraintKind::kPrimaryKey
                : type == "x" ? sql::ConstraintKind::kExclusion
                              : sql::ConstraintKind::kOther;
    info.validated = constraints.GetBool(r, 4);
    std::smatch m;
    const std::string& def = constraints.Get(r, 5);
    if (info.kind == sql::ConstraintKind::kCheck && std::regex_match(def, m, kNotNullCheck)) {
      info.not_null_column = m[1];
    }
    info.referenced_table = constraints.Get(r, 6);
    schema.AddTable(Key(constraints.Get(r, 0), constraints.Get(r, 1)))
        .constraints[constraints.Get(r, 2)] = info;
  }
  TANDEM_ASSIGN_OR_RETURN(
      pg::QueryResult indexes,
      connection.Query(
          std::string(
              "SELECT n.nspname, t.relname, i.relname, coalesce(string_agg(a.attname, ',' ORDER BY "
              "k.ord), '') FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
              "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
              "LEFT JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, ord) ON true "
              "LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum WHERE ") +
          kUserRelations + " GROUP BY 1, 2, 3"));
  for (size_t r = 0; r < indexes.rows(); ++r) {
    IndexInfo info;
    info.table = Key(indexes.Get(r, 0), indexes.Get(r, 1));
    const std::string& cols = indexes.Get(r, 3);
    for (size_t start = 0; start < cols.size();) {
      size_t comma = cols.find(',', start);
      if (comma == std::string::npos) comma = cols.size();
      info.columns.push_back(cols.substr(start, comma - start));
      start = comma + 1;
    }
    schema.AddIndex(indexes.Get(r, 2), std::move(info));
  }
  return schema;
}

Result<std::set<std::string>> ReadAppliedVersions(pg::Connection& connection,
                                                  const std::string& state_schema) {
  TANDEM_ASSIGN_OR_RETURN(auto history, migrate::ReadHistory(connection, state_schema));
  std::set<std::string> applied;
  for (const auto& row : history) {
    if (row.status == "succeeded") applied.insert(row.version);
  }
  return applied;
}

namespace {

std::string Normal(const std::string& path) {
  std::error_code ec;
  return std::filesystem::absolute(path, ec).lexically_normal().string();
}

// Drops the unreported units after the last reported one: later migrations do not matter.
void TrimTail(LintSequence& seq) {
  while (!seq.empty() && !seq.back().report) seq.pop_back();
}

}  // namespace

LintReport LintWithLiveDatabase(std::vector<LintSequence> sequences, const LiveDatabase& live,
                                const LintOptions& options) {
  std::string dir = Normal(live.migrations_dir);
  if (!dir.empty() && dir.back() != '/') dir += '/';
  auto applied = [&](const LintUnit& unit) {
    return !unit.info.version.empty() && live.applied.count(unit.info.version) &&
           Normal(unit.info.file).starts_with(dir);
  };
  std::vector<LintSequence> replayed, on_catalog;
  for (auto& seq : sequences) {
    if (live.applied.empty() || std::none_of(seq.begin(), seq.end(), applied)) {
      on_catalog.push_back(std::move(seq));
      continue;
    }
    LintSequence history, pending;
    for (auto& unit : seq) {
      // An unapplied migration between applied ones (out of order) is left out of their
      // history: they ran without it.
      (applied(unit) ? history : pending).push_back(std::move(unit));
    }
    TrimTail(history);
    TrimTail(pending);
    if (!history.empty()) replayed.push_back(std::move(history));
    if (!pending.empty()) on_catalog.push_back(std::move(pending));
  }
  LintReport report = LintSequences(on_catalog, live.catalog, options);
  if (replayed.empty()) return report;
  LintReport history = LintSequences(replayed, Schema(), options);
  report.files += history.files;
  report.statements += history.statements;
  std::move(history.findings.begin(), history.findings.end(), std::back_inserter(report.findings));
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const Finding& a, const Finding& b) {
                     return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
                   });
  return report;
}

}  // namespace tandem::lint
