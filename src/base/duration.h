// Durations as users write them in flags, tandem.toml and directives: "500ms", "15s",
// "10min", "1h", "2m" (minutes), or a bare number of milliseconds, like PostgreSQL's GUCs.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace tandem {

using Duration = std::chrono::milliseconds;

// The longest duration tandem accepts anywhere: PostgreSQL's timeouts (lock_timeout,
// statement_timeout, idle_in_transaction_session_timeout) are int milliseconds, and one limit
// for every setting keeps the rule simple (about 24.8 days).
inline constexpr Duration kMaxDuration{2147483647};

// Fails with kInvalidInput naming the accepted units, or saying the value is too large (above
// kMaxDuration), so that no value fails only after tandem has connected.
Result<Duration> ParseDuration(std::string_view text);

// The form PostgreSQL accepts in SET, e.g. "500ms".
std::string ToPostgresInterval(Duration d);

// Short human form: "850ms", "12.3s", "4m05s".
std::string FormatDuration(Duration d);

}  // namespace tandem
