// What the dashboard knows of one target between two reads: its migrations (tandem.migrations)
// and its jobs (tandem.jobs, without their SQL), read in one go, with the counts and the state
// the overview shows computed once per read rather than once per request.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "jobs/job.h"
#include "migrate/history.h"
#include "pg/connection.h"

namespace tandem::dashboard {

struct Snapshot {
  bool loaded = false;  // false until the first read ended (either way)
  Status error;         // the last read failed: the target is shown unreachable
  std::string read_at;  // ISO 8601, UTC
  std::vector<migrate::HistoryRow> migrations;
  std::vector<jobs::Job> jobs;  // by id

  // Computed by Summarize.
  std::map<std::string, int> migration_counts;  // pending, running, succeeded, failed
  std::map<std::string, int> job_counts;        // by job status
  int running_job = -1;                         // index into jobs: the running job (the first one)
  int oldest_queued = -1;                       // index into jobs: the queued job waiting longest
  // loading, unreachable, failed, running, waiting (a person: paused, approval), pending, ok.
  std::string state = "loading";
  int rank = 6;  // failures first: the order of the states above, unreachable and failed first

  void Summarize();
};

// The states a target can be in, in the overview's order.
const std::vector<std::string>& TargetStates();

// Reads a target's migrations and jobs (the state schema may not exist yet: then both empty).
Result<Snapshot> ReadSnapshot(pg::Connection& connection, const std::string& schema);

// JSON forms shared by the API and the live stream.
nlohmann::json JobJson(const std::string& target, const jobs::Job& job);
nlohmann::json MigrationJson(const migrate::HistoryRow& row);
// The overview's line for a target: counts, state, running job, oldest queued.
nlohmann::json SummaryJson(const std::string& target, const Snapshot& snapshot);

// The progress of a running job in words: "2 of 5 statements" or background's summary.
std::string ProgressText(const jobs::Job& job);
// 0-100 when known, -1 when not.
int ProgressPercent(const jobs::Job& job);

}  // namespace tandem::dashboard
