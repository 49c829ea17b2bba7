// Durations as users write them in flags, tandem.toml and directives: "500ms", "15s",
// "10min", "1h", "2m" (minutes), or a bare number of milliseconds, like PostgreSQL's GUCs.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tandem {

using Duration = std::chrono::milliseconds;

// Fails with kInvalidInput naming the accepted units.
Result<Duration> ParseDuration(std::string_view text);

// The form PostgreSQL accepts in SET, e.g. "500ms".
std::string ToPostgresInterval(Duration d);

// Short human form: "850ms", "12.3s", "4m05s".
std::string FormatDuration(Duration d);

}  // namespace tandem
