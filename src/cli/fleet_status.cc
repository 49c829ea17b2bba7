#include "cli/fleet_status.h"

namespace tandem::cli {
namespace {

const char* const kCounts[] = {"applied", "pending", "running",
                               "failed",  "drifted", "missing_file"};

}  // namespace

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
