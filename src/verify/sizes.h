// Size-aware risk: how big each table really is, and how long a rewrite or scan of it would
// hold its lock there. The shadow tells what happens and how long it took on the shadow's
// rows; the target (read-only access is enough) tells how many rows and bytes production has;
// the estimate scales one by the other.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/status.h"
#include "pg/connection.h"

namespace tandem::verify {

struct TableSize {
  double rows = 0;            // pg_class.reltuples (an estimate; 0 when never analyzed)
  long long table_bytes = 0;  // pg_table_size: heap and TOAST
  long long total_bytes = 0;  // pg_total_relation_size: with indexes
};

// Every user table and materialized view, by display name ("users", "audit.log").
using SizeMap = std::map<std::string, TableSize>;
Result<SizeMap> ReadSizes(pg::Connection& connection);

enum class WorkKind { kRewrite, kScan };

// A duration range in seconds.
struct Estimate {
  double low_seconds = 0;
  double high_seconds = 0;
  bool from_shadow_timing = false;  // scaled from the shadow's measured time
};

// Scales `shadow_ms` (the statement's time on the shadow, over `shadow` bytes) to `target`.
// When the shadow had too little data for its time to mean anything, falls back to typical
// throughput (rewrite with index rebuilds 25-75 MB/s, sequential scan 100-300 MB/s).
Estimate EstimateDuration(WorkKind kind, const TableSize& target, const TableSize& shadow,
                          double shadow_ms);

// "about 6-9 min", "about 2-4 s", "under 1 s".
std::string FormatEstimate(const Estimate& estimate);
// "48M rows", "1.2K rows", "100 rows".
std::string FormatRows(double rows);
// "14 GB", "300 MB", "8 kB".
std::string FormatBytes(long long bytes);

}  // namespace tandem::verify
