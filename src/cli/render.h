// Rendering of runner results as text (for people) or JSON (for machines).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status_json.h"
#include "config/config.h"
#include "migrate/history.h"
#include "migrate/runner.h"

namespace tandem::cli {

// The same document as StatusJson plus database, directory and layout, written directly.
std::string StatusJsonText(const std::vector<migrate::StatusEntry>& entries,
                           const std::string& database, const std::string& directory,
                           const std::string& layout);
std::string StatusText(const std::vector<migrate::StatusEntry>& entries, bool color);

nlohmann::json RunReportJson(const migrate::RunReport& report);
std::string RunReportText(const migrate::RunReport& report, bool color);

// True when stdout is a terminal and NO_COLOR is not set.
bool UseColor();

}  // namespace tandem::cli
