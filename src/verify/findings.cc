// Server-observed findings and size-aware risk (see findings.h).
#include "verify/findings.h"

#include <fmt/format.h>

#include <set>

#include "sql/ast.h"
#include "sql/shape.h"

namespace tandem::verify {
namespace {

Finding At(const std::string& rule, Severity severity, const std::string& version,
           const StatementTrace& st) {
  Finding f;
  f.rule = rule;
  f.severity = severity;
  f.version = version;
  f.statement_index = st.index;
  f.file = st.file;
  f.line = st.line;
  return f;
}

// The strongest lock the statement took on `relation`, if any.
std::optional<LockMode> StrongestLock(const StatementTrace& st, const std::string& relation) {
  std::optional<LockMode> out;
  for (const auto& lock : st.locks) {
    if (lock.relation == relation && (!out || lock.mode > *out)) out = lock.mode;
  }
  return out;
}

// The strongest lock on `relation` that blocks others while the statement runs: taken by it,
// or already held by its transaction from an earlier statement (which needs no new lock, and
// blocks the app until COMMIT just the same).
std::optional<LockMode> LockDuring(const StatementTrace& st, const std::string& relation) {
  std::optional<LockMode> out = StrongestLock(st, relation);
  for (const auto& lock : st.held) {
    if (lock.relation == relation && (!out || lock.mode > *out)) out = lock.mode;
  }
  return out;
}

// pg_class.relkind of a relation the statement locked or held locked ("" when unknown).
std::string KindOf(const StatementTrace& st, const std::string& relation) {
  for (const auto* locks : {&st.locks, &st.held}) {
    for (const auto& lock : *locks) {
      if (lock.relation == relation) return lock.kind;
    }
  }
  return "";
}

bool ChangesAColumnType(const StatementTrace& st) {
  auto parsed = sql::ParseStatements(st.sql);
  if (!parsed.ok() || parsed->empty()) return false;
  for (const auto& cmd : parsed->front().cmds) {
    if (cmd.action == sql::AlterAction::kAlterColumnType) return true;
  }
  return false;
}

std::string Display(const sql::RelationName& name) {
  return name.schema.empty() || name.schema == "public" ? name.name : name.schema + "." + name.name;
}

Severity SeverityFor(const Estimate& e, LockMode mode) {
  if (!ImpactOf(mode).blocks_writes) return Severity::kInfo;
  if (e.high_seconds < 0.5) return Severity::kInfo;
  if (e.high_seconds < 5) return Severity::kWarning;
  return Severity::kError;
}

}  // namespace

void FindingsObserver::BeforeStatement(pg::Connection& shadow, const migrate::Migration& migration,
                                       int index) {
  pending_not_null_.clear();
  const std::string& sql = migration.up.statements[index].sql;
  // Cheap pre-filter: parsing every statement of a large migration set is wasted work.
  if (sql.find("NULL") == std::string::npos && sql.find("null") == std::string::npos) return;
  auto shapes = sql::ShapeStatements(sql);
  if (!shapes.ok() || shapes->empty()) return;
  for (const auto& [table, column] : shapes->front().set_not_null) {
    std::string display = Display(table);
    std::string qualified = table.schema.empty() ? table.name : table.schema + "." + table.name;
    // A validated CHECK (col IS NOT NULL) lets PostgreSQL 12+ skip the scan.
    auto rows = shadow.Query(
        "SELECT c.conname FROM pg_catalog.pg_constraint c WHERE c.contype = 'c' "
        "AND c.convalidated AND c.conrelid = pg_catalog.to_regclass($1) "
        "AND pg_catalog.pg_get_constraintdef(c.oid) ~* ('\\m' || $2 || '\\M\\)? IS NOT NULL') "
        "LIMIT 1",
        {qualified, column});
    std::string check = rows.ok() && rows->rows() > 0 ? rows->Get(0, 0) : "";
    pending_not_null_.emplace_back(display, column, check);
  }
}

void FindingsObserver::AfterStatement(pg::Connection& shadow, const migrate::Migration& migration,
                                      const StatementTrace& trace, const CatalogSnapshot& before,
                                      const CatalogSnapshot& after, bool in_transaction) {
  for (const auto& [table, column, check] : pending_not_null_) {
    bool scanned = false;
    for (const auto& s : trace.scans) scanned |= s == table;
    if (scanned || check.empty()) continue;
    cheap_not_null_[{migration.version, trace.index}] = check;
    Finding f = At("set-not-null-cheap", Severity::kInfo, migration.version, trace);
    f.message = fmt::format("SET NOT NULL on {}.{} did not scan the table", table, column);
    f.detail = fmt::format(
        "the validated constraint \"{}\" already proves the column has no "
        "nulls, so the ACCESS EXCLUSIVE lock is held only briefly",
        check);
    f.hint = fmt::format("the CHECK constraint \"{}\" is redundant now and can be dropped", check);
    findings_.push_back(std::move(f));
  }
  pending_not_null_.clear();

  auto report_referenced = [&](const ForeignKeyInfo& fk, const CatalogSnapshot& names,
                               const char* verb) {
    const RelationInfo* referenced = names.Find(fk.referenced);
    const RelationInfo* table = names.Find(fk.table);
    if (!referenced || fk.referenced == fk.table) return;
    auto mode = StrongestLock(trace, referenced->DisplayName());
    if (!mode) return;  // created in this migration: nobody waits on it
    Finding f = At("lock-referenced-table",
                   ImpactOf(*mode).blocks_reads ? Severity::kWarning : Severity::kInfo,
                   migration.version, trace);
    f.message = fmt::format("{} foreign key \"{}\" locks the referenced table {} in {} mode", verb,
                            fk.name, referenced->DisplayName(), LockModeSql(*mode));
    f.detail = fmt::format("{} on {} while the statement runs{}; static rules look only at {}",
                           DescribeImpact(*mode), referenced->DisplayName(),
                           trace.in_transaction ? " and until COMMIT" : "",
                           table ? table->DisplayName() : "the altered table");
    f.hint = "set a short lock_timeout and retry, and keep the migration that touches it short";
    findings_.push_back(std::move(f));
  };
  for (const auto& [oid, fk] : after.foreign_keys) {
    if (before.foreign_keys.count(oid)) continue;
    report_referenced(fk, after, "adding");
    const RelationInfo* table = after.Find(fk.table);
    new_foreign_keys_.push_back({oid, fk.name, table ? table->DisplayName() : "", migration.version,
                                 trace.index, trace.file, trace.line});
  }
  for (const auto& [oid, fk] : before.foreign_keys) {
    if (!after.foreign_keys.count(oid)) report_referenced(fk, before, "dropping");
  }
}

void FindingsObserver::CheckForeignKeyIndexes(pg::Connection& shadow) {
  for (const auto& fk : new_foreign_keys_) {
    // Covered when some valid, non-partial index starts with exactly the FK's columns.
    auto rows = shadow.Query(
        "SELECT (SELECT pg_catalog.string_agg(a.attname, ', ' ORDER BY k.i) "
        "FROM pg_catalog.unnest(c.conkey) WITH ORDINALITY k(attnum, i) "
        "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum), "
        "EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.conrelid "
        "AND i.indisvalid AND i.indpred IS NULL "
        "AND (SELECT pg_catalog.array_agg(x) FROM pg_catalog.unnest("
        "(i.indkey::int2[])[0:pg_catalog.cardinality(c.conkey) - 1]) x) "
        "OPERATOR(pg_catalog.@>) c.conkey "
        "AND pg_catalog.cardinality(c.conkey) <= i.indnkeyatts) "
        "FROM pg_catalog.pg_constraint c WHERE c.oid = $1",
        {std::to_string(fk.oid)});
    if (!rows.ok() || rows->rows() == 0 || rows->GetBool(0, 1)) continue;
    Finding f;
    f.rule = "fk-without-index";
    f.severity = Severity::kWarning;
    f.version = fk.version;
    f.statement_index = fk.statement_index;
    f.file = fk.file;
    f.line = fk.line;
    f.message = fmt::format("foreign key \"{}\" on {} ({}) has no index on its referencing columns",
                            fk.name, fk.table, rows->Get(0, 0));
    f.detail = "every DELETE or key UPDATE on the referenced table scans " + fk.table +
               " to check the constraint, under a lock";
    f.hint = fmt::format(
        "add it in a migration with transaction off: CREATE INDEX CONCURRENTLY "
        "ON {} ({})",
        fk.table, rows->Get(0, 0));
    findings_.push_back(std::move(f));
  }
}

std::vector<Finding> RiskFindings(const MigrationTrace& trace, const SizeContext& sizes) {
  std::vector<Finding> out;
  static const TableSize kEmpty;
  auto lookup = [](const SizeMap* map, const std::string& name) -> const TableSize* {
    if (!map) return nullptr;
    auto it = map->find(name);
    return it == map->end() ? nullptr : &it->second;
  };
  for (const auto& st : trace.statements) {
    if (st.error) continue;
    std::set<std::string> rewritten(st.rewrites.begin(), st.rewrites.end());
    // Indexes whose files changed while their table's did not: an ALTER TYPE the table keeps
    // (varchar to text under an expression index) or a REINDEX. The table scan is the rebuild.
    std::vector<std::string> rebuilt_indexes;
    bool table_rewritten = false;
    for (const auto& r : st.rewrites) {
      std::string kind = KindOf(st, r);
      if (kind == "i") rebuilt_indexes.push_back(r);
      table_rewritten |= kind == "r";
    }
    bool index_rebuild = !table_rewritten && !rebuilt_indexes.empty();
    std::string indexes;
    for (const auto& i : rebuilt_indexes) indexes += (indexes.empty() ? "" : ", ") + i;
    auto describe = [&](WorkKind kind, const std::string& table) {
      auto mode = LockDuring(st, table);
      if (!mode) return;  // a relation of this migration's own, or an index
      const TableSize* shadow = lookup(sizes.shadow, table);
      const TableSize* target = lookup(sizes.target, table);
      bool rebuild = kind == WorkKind::kScan && index_rebuild;
      std::string what =
          kind == WorkKind::kRewrite ? "rewrites " + table
          : rebuild                  ? fmt::format("rebuilds {} {} of {}",
                                  rebuilt_indexes.size() == 1 ? "index" : "indexes", indexes, table)
                                     : "scans " + table;
      Finding f = At(kind == WorkKind::kRewrite ? "table-rewrite"
                     : rebuild                  ? "index-rebuild"
                                                : "table-scan",
                     Severity::kInfo, trace.version, st);
      if (target) {
        Estimate e = EstimateDuration(kind, *target, shadow ? *shadow : kEmpty, st.duration_ms);
        f.severity = SeverityFor(e, *mode);
        f.message = fmt::format(
            "{} ({}, {}): {} under {}", what, FormatRows(target->rows),
            FormatBytes(kind == WorkKind::kRewrite ? target->total_bytes : target->table_bytes),
            FormatEstimate(e), LockModeSql(*mode));
        f.detail = fmt::format("{} for that long; estimated from {}", DescribeImpact(*mode),
                               e.from_shadow_timing
                                   ? fmt::format("{:.1f} ms on the shadow's rows", st.duration_ms)
                                   : std::string("typical throughput (the shadow had too few rows "
                                                 "to time; try --sample-rows)"));
      } else {
        // Without the target's size a rewrite (or an index rebuild) cannot be called small.
        f.severity = (kind == WorkKind::kRewrite || rebuild) && ImpactOf(*mode).blocks_writes
                         ? Severity::kWarning
                         : Severity::kInfo;
        f.message = fmt::format("{} under {} ({:.1f} ms on the shadow)", what, LockModeSql(*mode),
                                st.duration_ms);
        // Reachable but without the table: an earlier pending migration creates it.
        f.detail = DescribeImpact(*mode) + " for as long as that takes on the real table; " +
                   (sizes.target ? "the target database has no such table yet to read its size"
                                 : "no target database was reachable to read its size");
      }
      if (auto taken = StrongestLock(st, table); !taken || *taken < *mode) {
        f.detail += fmt::format(
            "; {} was taken by an earlier statement of the transaction and is held until COMMIT",
            LockModeSql(*mode));
      }
      if (kind == WorkKind::kRewrite) {
        f.hint = "add a new column, backfill it in batches, and swap it in a short transaction";
      } else if (rebuild && *mode == LockMode::kAccessExclusive) {
        // ALTER TYPE: neither CONCURRENTLY nor NOT VALID applies to the statement itself; the
        // rebuild can be moved out of it.
        f.hint = fmt::format(
            "the table keeps its files; the rebuild of {} is what holds ACCESS EXCLUSIVE: drop "
            "the index with DROP INDEX CONCURRENTLY first, change the type, then create the "
            "index again with CREATE INDEX CONCURRENTLY (transaction off); queries go without "
            "the index in between, and a unique index or primary key loses its guarantee "
            "meanwhile, so schedule those for a quiet moment",
            indexes);
      } else if (rebuild) {
        f.hint =
            "rebuild it with REINDEX INDEX CONCURRENTLY (PostgreSQL 12 and later) in a "
            "migration with transaction off";
      } else if (ChangesAColumnType(st) && *mode == LockMode::kAccessExclusive) {
        // The scan re-checks the column's CHECK constraints: NOT VALID does not apply to the
        // ALTER TYPE itself, only to constraints added back after it.
        f.hint =
            "the type change re-checks the column's CHECK constraints with this scan: drop "
            "them first, change the type, then add them back NOT VALID and VALIDATE CONSTRAINT "
            "in a later migration (SHARE UPDATE EXCLUSIVE: reads and writes continue)";
      } else if (!ImpactOf(*mode).blocks_writes) {
        // CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT: reads and writes go on meanwhile, so
        // there is nothing to change.
      } else if (st.sql.find("NOT NULL") != std::string::npos ||
                 st.sql.find("not null") != std::string::npos) {
        f.hint =
            "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later "
            "migration, then SET NOT NULL (no scan)";
      } else if (*mode == LockMode::kShare) {
        f.hint = "use CREATE INDEX CONCURRENTLY in a migration with transaction off";
      } else {
        f.hint =
            "add constraints NOT VALID, then VALIDATE CONSTRAINT in a later migration "
            "(SHARE UPDATE EXCLUSIVE: reads and writes continue)";
      }
      out.push_back(std::move(f));
    };
    for (const auto& r : st.rewrites) {
      // Indexes are named in the rewrites list too; only tables get a finding.
      if (KindOf(st, r) == "r") describe(WorkKind::kRewrite, r);
    }
    for (const auto& s : st.scans) {
      if (!rewritten.count(s)) describe(WorkKind::kScan, s);
    }
  }
  return out;
}

}  // namespace tandem::verify
