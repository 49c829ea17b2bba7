// Rendering a ReleaseReport: text for the person reading the deploy log, JSON for machines.
//
// Text: one line per pre-deploy migration (what happened, its duration, its lock waits and
// retries), the blockers of any migration that had to wait, then what was queued for the
// worker. JSON: everything, down to each attempt and each blocker seen.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "release/release.h"

namespace tandem::release {

nlohmann::json ReleaseReportJson(const ReleaseReport& report);
std::string ReleaseReportText(const ReleaseReport& report);

}  // namespace tandem::release
