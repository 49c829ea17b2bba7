// Marking lint findings confirmed or refuted (see lint_join.h).
#include "verify/lint_join.h"

#include <set>
#include <string>

#include "sql/ast.h"

namespace tandem::verify {
namespace {

enum class Prediction { kRewrite, kScan, kBlockingLock, kNone };

Prediction PredictionOf(const std::string& rule) {
  static const std::set<std::string> kRewrite = {
      "change-column-type", "table-rewrite-alter", "add-column-volatile-default",
      "add-column-generated-stored", "add-column-serial"};
  static const std::set<std::string> kScan = {"set-not-null-scan",
                                              "constraint-missing-not-valid",
                                              "foreign-key-missing-not-valid",
                                              "attach-partition-scan",
                                              "add-unique-constraint",
                                              "add-primary-key",
                                              "alter-domain-add-constraint",
                                              "add-exclusion-constraint"};
  static const std::set<std::string> kLock = {"create-index-non-concurrently",
                                              "drop-index-non-concurrently",
                                              "reindex-non-concurrently",
                                              "refresh-materialized-view-non-concurrently",
                                              "trigger-on-existing-table",
                                              "drop-foreign-key",
                                              "detach-partition-non-concurrently",
                                              "truncate-table",
                                              "vacuum-full-or-cluster"};
  if (kRewrite.count(rule)) return Prediction::kRewrite;
  if (kScan.count(rule)) return Prediction::kScan;
  if (kLock.count(rule)) return Prediction::kBlockingLock;
  return Prediction::kNone;
}

Severity FromLint(lint::Severity severity) {
  switch (severity) {
    case lint::Severity::kInfo:
      return Severity::kInfo;
    case lint::Severity::kWarning:
      return Severity::kWarning;
    case lint::Severity::kError:
      return Severity::kError;
  }
  return Severity::kWarning;
}

// The traced statement a finding points into: the last one starting at or before its line.
const StatementTrace* StatementFor(const lint::Finding& finding, const MigrationTrace& trace) {
  const StatementTrace* best = nullptr;
  for (const auto& st : trace.statements) {
    if (st.file == finding.file && st.line <= finding.line) best = &st;
  }
  return best;
}

bool TookBlockingLock(const StatementTrace& st) {
  for (const auto& lock : st.locks) {
    if (ImpactOf(lock.mode).blocks_writes) return true;
  }
  return false;
}

// The relation the statement acts on ("users", "audit.log"), as ObservedLock names it.
std::string StatementRelation(const StatementTrace& st) {
  auto parsed = sql::ParseStatements(st.sql);
  if (!parsed.ok() || parsed->empty()) return "";
  const sql::QualifiedName& name = parsed->front().relation;
  return name.schema.empty() || name.schema == "public" ? name.name : name.schema + "." + name.name;
}

// A lock blocking writes that an earlier statement of the same transaction took on the
// statement's own relation: the statement needs no new lock, and the app waits until COMMIT.
const ObservedLock* HeldBlockingLock(const StatementTrace& st) {
  if (!st.in_transaction || st.held.empty()) return nullptr;
  std::string relation = StatementRelation(st);
  const ObservedLock* strongest = nullptr;
  for (const auto& lock : st.held) {
    if (lock.relation != relation || !ImpactOf(lock.mode).blocks_writes) continue;
    if (!strongest || lock.mode > strongest->mode) strongest = &lock;
  }
  return strongest;
}

// An index rebuilt (relfilenode changed) while its table kept its files, under a lock that
// blocks writes on a pre-existing table: what a binary-coercible ALTER TYPE costs when an
// index must be rebuilt. "" when none.
std::string RebuiltIndexUnderLock(const StatementTrace& st) {
  bool blocking = TookBlockingLock(st);
  for (const auto& lock : st.held)
    blocking |= lock.kind == "r" && ImpactOf(lock.mode).blocks_writes;
  if (!blocking) return "";
  for (const auto& r : st.rewrites) {
    for (const auto* locks : {&st.locks, &st.held}) {
      for (const auto& lock : *locks) {
        if (lock.relation == r && lock.kind == "i") return r;
      }
    }
  }
  return "";
}

bool RewroteTable(const StatementTrace& st) {
  for (const auto& r : st.rewrites) {
    for (const auto& lock : st.locks) {
      if (lock.relation == r && lock.kind == "r") return true;
    }
  }
  return false;
}

}  // namespace

std::vector<Finding> JoinLintFindings(const std::vector<lint::Finding>& lint_findings,
                                      const std::vector<MigrationTrace>& traces) {
  std::vector<Finding> out;
  for (const auto& lf : lint_findings) {
    const MigrationTrace* trace = nullptr;
    for (const auto& t : traces) {
      if (t.version == lf.migration) trace = &t;
    }
    if (!trace) continue;  // not a pending migration, or not reached on the shadow
    Finding f;
    f.rule = lf.rule;
    f.severity = FromLint(lf.severity);
    f.version = lf.migration;
    f.file = lf.file;
    f.line = lf.line;
    f.message = lf.message;
    f.detail = lf.why;
    f.hint = lf.recipe;
    f.verdict = "static";
    const StatementTrace* st = StatementFor(lf, *trace);
    if (st) f.statement_index = st->index;
    Prediction prediction = PredictionOf(lf.rule);
    if (st && !st->error && prediction != Prediction::kNone) {
      bool seen = prediction == Prediction::kRewrite ? RewroteTable(*st)
                  : prediction == Prediction::kScan  ? !st->scans.empty()
                                                     : TookBlockingLock(*st);
      if (!seen && prediction == Prediction::kRewrite) {
        std::string index = RebuiltIndexUnderLock(*st);
        if (!index.empty()) {
          seen = true;
          f.detail += (f.detail.empty() ? "" : "; ") + std::string("the shadow kept the table's ") +
                      "files (relfilenode unchanged) but rebuilt index " + index +
                      " under a lock that blocks writes";
        }
      }
      if (!seen && prediction == Prediction::kBlockingLock) {
        if (const ObservedLock* held = HeldBlockingLock(*st)) {
          seen = true;
          f.detail +=
              (f.detail.empty() ? "" : "; ") + std::string("the transaction already holds ") +
              std::string(LockModeSql(held->mode)) + " on " + held->relation +
              " from an earlier statement, which " + DescribeImpact(held->mode) + " until COMMIT";
        }
      }
      f.verdict = seen ? "confirmed" : "refuted";
      if (!seen) {
        f.severity = Severity::kInfo;
        f.detail = prediction == Prediction::kRewrite
                       ? "refuted by the shadow: no table was rewritten (relfilenode unchanged)"
                   : prediction == Prediction::kScan
                       ? "refuted by the shadow: no table was scanned"
                       : "refuted by the shadow: no lock blocking writes was taken on a table "
                         "that existed before this migration";
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace tandem::verify
