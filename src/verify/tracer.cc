// Tracing one migration on the shadow (see tracer.h for the model).
#include "verify/tracer.h"
#include "migrate/execute_statement.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

namespace tandem::verify {
namespace {

using Clock = std::chrono::steady_clock;

double MsBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

StatementTrace NewTrace(const migrate::Statement& statement, int index, bool in_transaction) {
  StatementTrace trace;
  trace.index = index;
  trace.file = statement.location.file;
  trace.line = statement.location.line;
  trace.column = statement.location.column;
  trace.sql = statement.sql;
  trace.in_transaction = in_transaction;
  return trace;
}

void AddLock(const CatalogSnapshot& baseline, Oid oid, LockMode mode, StatementTrace& trace) {
  const RelationInfo* relation = baseline.Find(oid);
  if (!relation) return;  // created by this migration: nobody else can see it yet
  ObservedLock lock{relation->DisplayName(), std::string(1, relation->kind), mode};
  for (const auto& existing : trace.locks) {
    if (existing.relation == lock.relation && existing.mode == lock.mode) return;
  }
  trace.locks.push_back(std::move(lock));
}

void SortLocks(StatementTrace& trace) {
  std::sort(trace.locks.begin(), trace.locks.end(), [](const auto& a, const auto& b) {
    return a.relation != b.relation ? a.relation < b.relation : a.mode > b.mode;
  });
}

// Polls pg_locks for `pid` from a second session until stopped, collecting every relation
// lock seen (granted or awaited: a CONCURRENTLY build that waits still queues others).
class LockPoller {
 public:
  LockPoller(pg::Connection* session, int pid) : session_(session), pid_(pid) {
    if (!session_) return;
    // Hold a snapshot until the first lock is seen. CREATE INDEX CONCURRENTLY (and the other
    // CONCURRENTLY forms) wait for every transaction whose snapshot predates them, so a fast
    // build cannot finish before it has been observed; polling alone missed builds of small
    // tables. Taken here, before the statement is sent, or the build would not wait for it.
    holding_snapshot_ = session_->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ").ok() &&
                        session_->Exec("SELECT 1").ok();
    thread_ = std::thread([this] { Run(); });
  }
  ~LockPoller() { Stop(); }
  std::set<std::pair<Oid, LockMode>> Stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
    return seen_;
  }

 private:
  void Run() {
    while (running_) {
      auto locks = ReadLocks(*session_, pid_);  // pg_locks is live, not MVCC: fine mid-snapshot
      if (!locks.ok()) break;
      seen_.insert(locks->begin(), locks->end());
      if (holding_snapshot_ && !seen_.empty()) ReleaseSnapshot();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ReleaseSnapshot();
  }

  void ReleaseSnapshot() {
    if (!holding_snapshot_) return;
    holding_snapshot_ = false;
    session_->Exec("COMMIT");
  }

  pg::Connection* session_;
  int pid_;
  std::atomic<bool> running_{true};
  bool holding_snapshot_ = false;  // touched by the constructor, then only by the thread
  std::set<std::pair<Oid, LockMode>> seen_;
  std::thread thread_;
};

Result<MigrationTrace> TraceInTransaction(const migrate::Migration& migration,
                                          const TraceInput& input, MigrationTrace trace) {
  pg::Connection& shadow = *input.shadow;
  int pid = shadow.backend_pid();
  TANDEM_RETURN_IF_ERROR(shadow.Exec("BEGIN"));
  TANDEM_ASSIGN_OR_RETURN(CatalogSnapshot baseline, TakeSnapshot(shadow, pid));
  CatalogSnapshot before = baseline;
  bool failed = false;
  const auto& statements = migration.up.statements;
  for (int i = 0; i < static_cast<int>(statements.size()); ++i) {
    StatementTrace st = NewTrace(statements[i], i, /*in_transaction=*/true);
    if (input.observer) input.observer->BeforeStatement(shadow, migration, i);
    auto t0 = Clock::now();
    Status status = migrate::ExecuteStatement(shadow, statements[i]);
    auto t1 = Clock::now();
    st.duration_ms = MsBetween(t0, t1);
    if (!status.ok()) {
      st.error = status;
      trace.statements.push_back(std::move(st));
      failed = true;
      break;
    }
    TANDEM_ASSIGN_OR_RETURN(CatalogSnapshot after, TakeSnapshot(shadow, pid));
    DiffSnapshots(baseline, before, after, st);
    // Named as they are when the statement starts (an earlier statement may have renamed the
    // table, and this one uses the new name); a relation dropped earlier keeps its old name,
    // which the app's queries still wait on until COMMIT.
    for (const auto& [oid, mode] : before.locks) {
      const RelationInfo* old_info = baseline.Find(oid);
      if (!old_info) continue;
      const RelationInfo* current = before.Find(oid);
      if (!current) current = old_info;
      st.held.push_back({current->DisplayName(), std::string(1, current->kind), mode});
    }
    st.overhead_ms = MsBetween(t1, Clock::now());
    if (input.observer) {
      input.observer->AfterStatement(shadow, migration, st, before, after, true);
    }
    trace.statements.push_back(std::move(st));
    before = std::move(after);
  }
  if (failed) {
    TANDEM_RETURN_IF_ERROR(shadow.Exec("ROLLBACK"));
  } else {
    Status committed = shadow.Exec("COMMIT");
    if (!committed.ok()) {
      // A deferred constraint or a failed COMMIT: the migration would fail the same way.
      if (!trace.statements.empty()) trace.statements.back().error = committed;
      failed = true;
    }
  }
  trace.succeeded = !failed;
  // Every lock stays until COMMIT: a statement's locks are held for its own time and all
  // that follows it.
  double suffix = 0;
  for (auto it = trace.statements.rbegin(); it != trace.statements.rend(); ++it) {
    suffix += it->duration_ms;
    it->held_until_commit_ms = suffix;
  }
  return trace;
}

Result<MigrationTrace> TraceStatementByStatement(const migrate::Migration& migration,
                                                 const TraceInput& input, MigrationTrace trace) {
  pg::Connection& shadow = *input.shadow;
  int pid = shadow.backend_pid();
  const auto& statements = migration.up.statements;
  trace.succeeded = true;
  // Each statement commits on its own, so its scans are read from the cumulative counters,
  // flushed before and after it (PostgreSQL 15 and later; older shadows report no scans here).
  bool cumulative = CanFlushStatistics(shadow);
  ScanCounters counters = cumulative ? ScanCounters::kCumulative : ScanCounters::kTransaction;
  if (cumulative) TANDEM_RETURN_IF_ERROR(FlushStatistics(shadow));
  for (int i = 0; i < static_cast<int>(statements.size()); ++i) {
    StatementTrace st = NewTrace(statements[i], i, /*in_transaction=*/false);
    auto s0 = Clock::now();
    TANDEM_ASSIGN_OR_RETURN(CatalogSnapshot before, TakeSnapshot(shadow, pid, counters));
    double overhead = MsBetween(s0, Clock::now());
    if (input.observer) input.observer->BeforeStatement(shadow, migration, i);
    LockPoller poller(input.observer_session, pid);
    auto t0 = Clock::now();
    Status status = migrate::ExecuteStatement(shadow, statements[i]);
    auto t1 = Clock::now();
    auto seen = poller.Stop();
    st.duration_ms = MsBetween(t0, t1);
    if (!status.ok()) {
      st.error = status;
      trace.statements.push_back(std::move(st));
      trace.succeeded = false;
      break;
    }
    if (cumulative) TANDEM_RETURN_IF_ERROR(FlushStatistics(shadow));
    TANDEM_ASSIGN_OR_RETURN(CatalogSnapshot after, TakeSnapshot(shadow, pid, counters));
    DiffSnapshots(before, before, after, st);
    for (const auto& [oid, mode] : seen) AddLock(before, oid, mode, st);
    SortLocks(st);
    st.overhead_ms = overhead + MsBetween(t1, Clock::now());
    st.held_until_commit_ms = st.duration_ms;
    if (input.observer) {
      input.observer->AfterStatement(shadow, migration, st, before, after, false);
    }
    trace.statements.push_back(std::move(st));
  }
  return trace;
}

}  // namespace

void DiffSnapshots(const CatalogSnapshot& baseline, const CatalogSnapshot& before,
                   const CatalogSnapshot& after, StatementTrace& trace) {
  for (const auto& lock : after.locks) {
    if (!before.locks.count(lock)) AddLock(baseline, lock.first, lock.second, trace);
  }
  SortLocks(trace);

  auto baseline_names = baseline.ByName();
  auto before_names = before.ByName();
  auto after_names = after.ByName();
  for (const auto& [name, old_info] : before_names) {
    if (!baseline_names.count(name)) continue;
    auto it = after_names.find(name);
    if (it == after_names.end()) continue;
    if (old_info->relfilenode != 0 && it->second->relfilenode != 0 &&
        old_info->relfilenode != it->second->relfilenode) {
      trace.rewrites.push_back(name);
    }
  }
  for (const auto& [oid, info] : after.relations) {
    if (!baseline.Find(oid)) continue;
    const RelationInfo* old_info = before.Find(oid);
    long long previous = old_info ? old_info->seq_scans : 0;
    if (info.seq_scans > previous) trace.scans.push_back(info.DisplayName());
  }
  for (const auto& [oid, info] : after.relations) {
    if (before.Find(oid) || before_names.count(info.DisplayName())) continue;
    trace.created.push_back(info.DisplayName() + " (" + std::string(KindName(info.kind)) + ")");
  }
  for (const auto& [oid, info] : before.relations) {
    if (after.Find(oid) || after_names.count(info.DisplayName())) continue;
    trace.dropped.push_back(info.DisplayName() + " (" + std::string(KindName(info.kind)) + ")");
  }
  std::sort(trace.scans.begin(), trace.scans.end());
}

Result<MigrationTrace> TraceMigration(const migrate::Migration& migration,
                                      const TraceInput& input) {
  MigrationTrace trace;
  trace.version = migration.version;
  trace.name = migration.name;
  trace.transactional = migration.transactional;
  auto started = Clock::now();
  Result<MigrationTrace> result =
      migration.transactional ? TraceInTransaction(migration, input, std::move(trace))
                              : TraceStatementByStatement(migration, input, std::move(trace));
  if (result.ok()) result->duration_ms = MsBetween(started, Clock::now());
  return result;
}

}  // namespace tandem::verify
