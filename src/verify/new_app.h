// The new app's queries (`tandem verify --new-queries FILE`): prepared once the pending
// migrations have run on the shadow (online ones expanded, as `tandem release` leaves them,
// not contracted), on the connections' search_path the plans print for the new app
// (`new_app_search_path`, none when no plan needs one). A query that does not prepare, or an
// INSERT that fails on every call, is reported with its file and line and the server's error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "pg/connection.h"
#include "verify/compat.h"
#include "verify/report.h"

namespace tandem::verify {

// Prepares every query of `queries` on `shadow` with `search_path` set (when given, reset
// afterwards); fills `report.new_app` and `report.new_app_summary`. Non-ok only when the
// shadow is gone.
Status CheckNewAppQueries(pg::Connection& shadow, const std::vector<OldQuery>& queries,
                          const std::optional<std::string>& search_path, VerifyReport& report);

}  // namespace tandem::verify
