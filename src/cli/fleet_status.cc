#include "cli/fleet_status.h"

#include <algorithm>
#include <map>

#include "migrate/runner_lock.h"
#include "pg/quote.h"
#include "worker/worker.h"

namespace tandem::cli {
namespace {

const char* const kCounts[] = {"applied", "pending", "running",
                               "failed",  "drifted", "missing_file"};

}  // namespace

Result<std::optional<std::vector<migrate::StatusEntry>>> ReadFleetStatusEntries(
    pg::Connection& connection, const config::Config& config, const migrate::MigrationSet& files,
    std::vector<migrate::HistoryRow>& history, bool with_jobs) {
  using Entries = std::optional<std::vector<migrate::StatusEntry>>;
  std::string s = pg::QuoteIdentifier(config.schema);
  // The rows of the history, each with its newest job's status (the newest wins, as in the
  // single-database status), then the newest job of any version without a row.
  // Without with_jobs the jobs table is not read: a new session's first read of a table loads
  // its catalog entries, which is most of this query's cost.
  auto result = connection.Query(
      with_jobs
          ? "SELECT true, m.version, m.name, m.phase, m.checksum, m.status, (SELECT j.status "
            "FROM " +
                s + ".jobs j WHERE j.version = m.version ORDER BY j.id DESC LIMIT 1) FROM " + s +
                ".migrations m UNION ALL SELECT false, j.version, '', '', '', '', j.status "
                "FROM " +
                s + ".jobs j WHERE NOT EXISTS (SELECT FROM " + s +
                ".migrations m WHERE m.version = j.version) AND j.id = (SELECT max(k.id) FROM " +
                s + ".jobs k WHERE k.version = j.version)"
          : "SELECT true, m.version, m.name, m.phase, m.checksum, m.status, '' FROM " + s +
                ".migrations m");
  if (!result.ok()) {
    if (result.status().sqlstate() != "42P01") return result.status();
    // undefined_table. A database tandem never touched has neither table: every migration
    // is pending, which is what the long way says too. Otherwise the state schema is older
    // than the jobs table, and the long way knows its layout.
    TANDEM_ASSIGN_OR_RETURN(
        auto tables, connection.Query("SELECT pg_catalog.to_regclass(pg_catalog.quote_ident($1) || "
                                      "'.migrations') IS NULL AND pg_catalog.to_regclass("
                                      "pg_catalog.quote_ident($1) || '.jobs') IS NULL",
                                      {config.schema}));
    if (!tables.GetBool(0, 0)) return Entries();
    history.clear();
    return Entries(migrate::ComputeStatus(files, history));
  }
  history.clear();
  history.reserve(result->rows());
  std::vector<std::string> job_status;  // by history row
  std::map<std::string, std::string> rowless_jobs;
  for (size_t r = 0; r < result->rows(); ++r) {
    if (!result->GetBool(r, 0)) {
      rowless_jobs[result->Get(r, 1)] = result->Get(r, 6);
      continue;
    }
    migrate::HistoryRow row;
    row.version = result->Get(r, 1);
    row.name = result->Get(r, 2);
    row.phase = result->Get(r, 3);
    row.checksum = result->Get(r, 4);
    row.status = result->Get(r, 5);
    job_status.push_back(result->Get(r, 6));
    history.push_back(std::move(row));
  }
  std::vector<migrate::StatusEntry> entries = migrate::ComputeStatus(files, history);
  MarkLeftRunning(connection, config.schema, history, entries);
  for (auto& e : entries) {
    if (e.row) {
      e.job_status = job_status[static_cast<size_t>(e.row - history.data())];
    } else if (auto it = rowless_jobs.find(e.version); it != rowless_jobs.end()) {
      e.job_status = it->second;
    }
  }
  return Entries(std::move(entries));
}

void MarkLeftRunning(pg::Connection& connection, const std::string& schema,
                     const std::vector<migrate::HistoryRow>& history,
                     std::vector<migrate::StatusEntry>& entries) {
  bool any_running = std::any_of(history.begin(), history.end(), [](const migrate::HistoryRow& r) {
    return r.status == "running";
  });
  if (!any_running) return;
  // A row left "running" is a runner that died, unless one holds the runner lock right now.
  auto holders = migrate::FindLockHolders(connection, migrate::RunnerLockKey(schema));
  migrate::MarkRunning(entries, holders.ok() && !holders->empty());
  // Post-deploy migrations are run by the worker, under its own lock.
  worker::WorkerLockKey key = worker::LockKeyFor(schema);
  auto workers =
      migrate::FindLockHolders(connection, migrate::LockKey{key.class_id, key.object_id});
  if (workers.ok() && !workers->empty()) {
    for (auto& e : entries) {
      if (e.row && e.row->status == "running" && e.phase != migrate::Phase::kPreDeploy)
        e.state = migrate::MigrationState::kRunning;
    }
  }
}

FleetStatusRow CountStatus(const std::vector<migrate::StatusEntry>& entries) {
  FleetStatusRow row;
  row.total = static_cast<int>(entries.size());
  for (const auto& e : entries) {
    switch (e.state) {
      case migrate::MigrationState::kApplied:
        ++row.applied;
        break;
      case migrate::MigrationState::kPending:
        ++row.pending;
        // Entries are in version order: the first pending one is the oldest.
        if (row.oldest_pending.empty()) row.oldest_pending = e.version;
        break;
      case migrate::MigrationState::kRunning:
        ++row.running;
        break;
      case migrate::MigrationState::kFailed:
        ++row.failed;
        break;
      case migrate::MigrationState::kDrifted:
        ++row.drifted;
        break;
      case migrate::MigrationState::kMissingFile:
        ++row.missing_file;
        break;
    }
  }
  return row;
}

std::string FleetStatusLine(const FleetStatusRow& row) {
  std::string line = "applied " + std::to_string(row.applied) + "  pending " +
                     std::to_string(row.pending) + "  running " + std::to_string(row.running) +
                     "  failed " + std::to_string(row.failed) + "  drifted " +
                     std::to_string(row.drifted);
  if (row.missing_file) line += "  missing file " + std::to_string(row.missing_file);
  if (!row.oldest_pending.empty()) line += "  oldest pending " + row.oldest_pending;
  return line;
}

nlohmann::json FleetStatusJson(const FleetStatusRow& row) {
  nlohmann::json json = {{"total", row.total},
                         {"applied", row.applied},
                         {"pending", row.pending},
                         {"running", row.running},
                         {"failed", row.failed},
                         {"drifted", row.drifted},
                         {"missing_file", row.missing_file}};
  json["oldest_pending"] =
      row.oldest_pending.empty() ? nlohmann::json(nullptr) : nlohmann::json(row.oldest_pending);
  return json;
}

nlohmann::json FleetStatusTotals(const std::vector<TargetOutput>& outputs) {
  nlohmann::json totals = nlohmann::json::object();
  for (const char* key : kCounts) totals[key] = 0;
  int answered = 0, up_to_date = 0;
  for (const TargetOutput& o : outputs) {
    if (!o.json.contains("applied")) continue;  // not reached
    ++answered;
    for (const char* key : kCounts) totals[key] = totals[key].get<int>() + o.json[key].get<int>();
    if (o.json["applied"] == o.json["total"]) ++up_to_date;
  }
  totals["databases_answered"] = answered;
  totals["databases_up_to_date"] = up_to_date;
  totals["databases_behind"] = answered - up_to_date;
  return totals;
}

std::string FleetStatusFooter(const std::vector<TargetOutput>& outputs) {
  nlohmann::json t = FleetStatusTotals(outputs);
  std::string line = "up to date: " + std::to_string(t["databases_up_to_date"].get<int>()) +
                     " of " + std::to_string(t["databases_answered"].get<int>()) +
                     " databases that answered; migrations pending " +
                     std::to_string(t["pending"].get<int>()) + ", running " +
                     std::to_string(t["running"].get<int>()) + ", failed " +
                     std::to_string(t["failed"].get<int>()) + ", drifted " +
                     std::to_string(t["drifted"].get<int>()) + "\n";
  return line;
}

}  // namespace tandem::cli
