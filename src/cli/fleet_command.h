// A command over a fleet (`--target NAME|group:NAME|all`): the targets chosen, the rollout run
// (fleet/rollout.h), a live progress line on a terminal, and the final table (failures first)
// or the JSON matrix. Commands give only what they do on one database; nothing here knows
// what a release or a status is.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "cli/context.h"
#include "config/config.h"
#include "fleet/rollout.h"
#include "fleet/targets.h"
#include "pg/connection.h"

namespace tandem::cli {

// What one database's run leaves for the report.
struct TargetOutput {
  std::string target;                              // the database's name (set by RunOnFleet)
  std::string summary;                             // one line for the text table
  nlohmann::json json = nlohmann::json::object();  // merged into the target's JSON entry
};

// Runs on one database, on the connection the fleet opened for it (its own; never shared).
// May be called on several threads at once: it must not print.
using TargetCommand = std::function<Status(const fleet::Target&, pg::Connection&, TargetOutput&)>;

struct FleetCommand {
  std::string name;  // "release", "status": for the headline and the JSON
  // A read-only fan-out (status): no canary stage and no failure budget, everyone is asked.
  bool read_only = false;
  // Called with every target's output once all have finished, for a summary line of its own
  // (text) or a JSON member (both may be left empty).
  std::function<std::string(const std::vector<TargetOutput>&)> text_footer;
  std::function<nlohmann::json(const std::vector<TargetOutput>&)> json_footer;
};

// Chooses the targets (context.flags.target), runs `command` on each with the configured
// concurrency and failure budget (flags override [fleet]), prints, and returns the exit code:
// 0 when every database succeeded, 1 when any failed, was unreachable or was not started,
// 2 for bad input (an unknown target), 128 + signal when interrupted.
int RunOnFleet(Context& context, const config::Config& config, const FleetCommand& how,
               const TargetCommand& command);

// What a command that names one thing of one database (a job id) uses with --target: the
// selection must be exactly one database (kInvalidInput otherwise, saying `what` is per
// database), connected as the rollout connects.
Result<std::unique_ptr<pg::Connection>> ConnectSingleTarget(Context& context,
                                                            const config::Config& config,
                                                            const std::string& what);

// Connections a fleet command may open beyond one per database in flight: the blocker
// watches of release (release/blockers.h WatchSlots). docs/fleet.md states the bound.
inline constexpr int kFleetExtraConnections = 2;

// "2 applied, 1 failed": the actions of a run report counted, in the order first seen.
std::string CountedActions(const std::vector<std::string>& actions);

// The rollout's report as text (failures first) and as JSON; for tests and RunOnFleet.
std::string FleetReportText(const FleetCommand& how, const fleet::RolloutReport& report,
                            const std::vector<TargetOutput>& outputs);
nlohmann::json FleetReportJson(const FleetCommand& how, const fleet::RolloutReport& report,
                               const std::vector<TargetOutput>& outputs);

}  // namespace tandem::cli
