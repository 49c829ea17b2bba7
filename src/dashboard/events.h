// Reading tandem.events (the audit log) for the events page, a job's and a migration's pages and
// GET /api/events. Read live, on the caller's connection: the log can be long, and a page shows
// one page of it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "pg/connection.h"

namespace tandem::dashboard {

struct EventRow {
  long long id = 0;
  std::string at;  // ISO 8601, UTC
  std::string version;
  std::string event;  // "job.paused", "migration.applied", ...
  std::string actor;
  std::string detail;  // JSON text
};

struct EventFilter {
  std::string version;              // only this migration's
  std::string event;                // only events whose name starts with this ("job.")
  std::optional<long long> job;     // only this job's (detail->>'job')
  std::optional<long long> before;  // id < before: newest first (the next page)
  std::optional<long long> after;   // id > after: oldest first (a feed)
  int limit = 50;                   // at most 500
};

// Newest first, or oldest first with `after`. No events table (nothing recorded yet): none.
Result<std::vector<EventRow>> ReadEvents(pg::Connection& connection, const std::string& schema,
                                         const EventFilter& filter);

nlohmann::json EventJson(const std::string& target, const EventRow& row);

}  // namespace tandem::dashboard
