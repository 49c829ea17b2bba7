// What the database says happened (tandem.migrations), and the status of every migration:
// the files joined with the history. ComputeStatus is pure logic, tested without a server.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "migrate/migration.h"
#include "pg/connection.h"

namespace tandem::migrate {

struct HistoryRow {
  std::string version;
  std::string name;
  std::string phase;
  std::string checksum;
  std::string status;  // pending, running, succeeded, failed
  bool transactional = true;
  int attempts = 0;
  int statements_done = 0;
  int statements_total = 0;
  std::vector<std::string> statement_checksums;
  bool out_of_order = false;
  std::string started_at;
  std::string finished_at;
  std::optional<long long> duration_ms;
  std::string error_sqlstate;
  std::string error_message;
  std::string error_statement;
  std::string error_file;
  int error_line = 0;
  int error_column = 0;
  std::string applied_by;
  std::string adopted_from;
};

// Empty when the state schema does not exist yet (nothing was ever applied).
Result<std::vector<HistoryRow>> ReadHistory(pg::Connection& connection, const std::string& schema);
// Only the rows that satisfy `where`, SQL on the migrations table's columns written by the
// caller (never user input), with `params` as $1...: for a reader that needs a few rows of a
// long history each time it looks, as the worker does before every job. The caller knows the
// table exists (the worker has read the jobs table, created after it): no round trip to check.
Result<std::vector<HistoryRow>> ReadHistoryWhere(pg::Connection& connection,
                                                 const std::string& schema,
                                                 const std::string& where,
                                                 const std::vector<pg::Param>& params);

enum class MigrationState {
  kApplied,      // succeeded and the file is unchanged
  kPending,      // not applied yet (or reverted, or recorded for the worker)
  kFailed,       // the last attempt failed, or was interrupted
  kDrifted,      // applied, but the file changed since
  kMissingFile,  // applied, but no file has this version
  kRunning,      // another runner is applying it right now (it holds the runner lock)
};
std::string_view StateName(MigrationState state);

struct StatusEntry {
  std::string version;
  std::string name;
  Phase phase = Phase::kPreDeploy;
  MigrationState state = MigrationState::kPending;
  bool out_of_order = false;  // pending, but older than the newest applied migration
  // Applied, and only the down section (or down file) changed since: not drift, since applying
  // never ran it, but `tandem down` will run the new text.
  bool down_changed = false;
  const Migration* migration = nullptr;  // nullptr for missing-file
  const HistoryRow* row = nullptr;       // nullptr when never recorded
  // Queued by `tandem release` for the worker: its job (0 when none) and the job's state.
  long long job_id = 0;
  std::string job_status;
  // An online migration (-- tandem:online): its state as expand/executor.h describes it
  // ("backfilling (job 4, running)", "ready to complete", "failed at expand step 2: ...").
  std::string online_state;
};

// Whether an applied migration's recorded checksum still matches its files; see
// Migration::checksum for the recorded forms.
struct ChecksumMatch {
  bool up_unchanged = false;
  bool down_changed = false;
};
ChecksumMatch MatchRecordedChecksum(const Migration& migration, const std::string& recorded);

// One entry per version in the files or the history, ordered by version (the layout's order).
std::vector<StatusEntry> ComputeStatus(const MigrationSet& files,
                                       const std::vector<HistoryRow>& history);

// A "running" row means a runner died mid-way (kFailed) unless a runner holds the lock now:
// then it is being applied. Call with whether the runner lock is held.
void MarkRunning(std::vector<StatusEntry>& entries, bool runner_lock_held);

// 1700000000123 -> "2023-11-14T22:13:20.123Z" (UTC, ISO 8601).
std::string FormatEpochMillis(long long millis);

// pg text[] literal {a,b} to vector (checksums and versions only: no quoting needed).
std::vector<std::string> ParseTextArray(const std::string& literal);
std::string ToTextArray(const std::vector<std::string>& items);

}  // namespace tandem::migrate
