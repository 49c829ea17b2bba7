// tandem's own state in the target database: the `tandem` schema (name configurable) with
// `migrations` (one row per migration), `events` (an append-only log of every change) and
// `state_version`. Created and upgraded by tandem's own versioned DDL, always under the
// runner lock, each upgrade step in one transaction.
#pragma once

#include <string>

#include "base/status.h"
#include "pg/connection.h"

namespace tandem::migrate {

// The newest state version this build knows.
int LatestStateVersion();

// Creates or upgrades the state schema. kFailed if the database was upgraded by a newer tandem.
Status EnsureStateSchema(pg::Connection& connection, const std::string& schema);

// True when the state tables exist (read-only commands never create them).
Result<bool> StateSchemaExists(pg::Connection& connection, const std::string& schema);

// "host pid 1234 tandem 0.1.0": who made a change, for rows and events.
std::string Actor();
std::string HostName();

// Appends an event. `detail_json` must be a JSON object.
Status RecordEvent(pg::Connection& connection, const std::string& schema,
                   const std::string& version, const std::string& event,
                   const std::string& detail_json = "{}");

}  // namespace tandem::migrate
