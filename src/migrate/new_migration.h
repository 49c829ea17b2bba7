// `tandem new`: a new migration from the layout's template, named with a UTC timestamp.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"
#include "migrate/migration.h"

namespace tandem::migrate {

// Creates the migration's file(s) in `directory` and returns the path of the main one (the
// up file; Diesel: <dir>/up.sql). The version is `now` in UTC as YYYYMMDDHHMMSS (Diesel:
// YYYY-MM-DD-HHMMSS), moved on by a second while a migration of that version exists, so two
// `tandem new` within one second do not collide. A phase other than pre-deploy is written as a
// `-- tandem:phase` directive. kInvalidInput when the name has no letters or digits or the
// directory does not exist; kFailed when a file cannot be written.
Result<std::string> WriteNewMigration(const std::string& directory, Layout layout,
                                      const std::string& name, Phase phase,
                                      std::chrono::system_clock::time_point now);

// Lowercase snake_case: "AddEmail to-Users!" becomes "add_email_to_users"; "" when nothing
// of the name is left.
std::string SanitizeMigrationName(std::string_view name);

}  // namespace tandem::migrate
