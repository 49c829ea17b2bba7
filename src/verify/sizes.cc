// Reading table sizes and turning shadow timings into production estimates (see sizes.h).
#include "verify/sizes.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace tandem::verify {

Result<SizeMap> ReadSizes(pg::Connection& connection) {
  TANDEM_ASSIGN_OR_RETURN(
      auto rows,
      connection.Query("SELECT n.nspname, c.relname, GREATEST(c.reltuples, 0)::float8, "
                       "pg_catalog.pg_table_size(c.oid), pg_catalog.pg_total_relation_size(c.oid) "
                       "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                       "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm') "
                       "AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' "
                       "AND n.nspname !~ '^pg_(toast|temp_)'"));
  SizeMap out;
  for (size_t r = 0; r < rows.rows(); ++r) {
    std::string name =
        rows.Get(r, 0) == "public" ? rows.Get(r, 1) : rows.Get(r, 0) + "." + rows.Get(r, 1);
    TableSize size;
    size.rows = std::atof(rows.Get(r, 2).c_str());
    size.table_bytes = rows.GetInt(r, 3);
    size.total_bytes = rows.GetInt(r, 4);
    out[name] = size;
  }
  return out;
}

Estimate EstimateDuration(WorkKind kind, const TableSize& target, const TableSize& shadow,
                          double shadow_ms) {
  long long target_bytes = kind == WorkKind::kRewrite ? target.total_bytes : target.table_bytes;
  long long shadow_bytes = kind == WorkKind::kRewrite ? shadow.total_bytes : shadow.table_bytes;
  Estimate e;
  // Below a megabyte and a few milliseconds the shadow's time is mostly fixed cost.
  if (shadow_bytes >= (1 << 20) && shadow_ms >= 5) {
    double seconds = shadow_ms / 1000.0 * static_cast<double>(target_bytes) / shadow_bytes;
    e.low_seconds = seconds * 0.7;
    e.high_seconds = seconds * 1.5;
    e.from_shadow_timing = true;
    return e;
  }
  double low_rate = kind == WorkKind::kRewrite ? 25e6 : 100e6;
  double high_rate = kind == WorkKind::kRewrite ? 75e6 : 300e6;
  e.low_seconds = target_bytes / high_rate;
  e.high_seconds = target_bytes / low_rate;
  return e;
}

namespace {

std::string Range(double low, double high, const char* unit) {
  long long lo = std::max(1LL, std::llround(std::floor(low)));
  long long hi = std::max(lo, static_cast<long long>(std::ceil(high)));
  if (lo == hi) return fmt::format("about {} {}", lo, unit);
  return fmt::format("about {}-{} {}", lo, hi, unit);
}

}  // namespace

std::string FormatEstimate(const Estimate& e) {
  if (e.high_seconds < 1) return "under 1 s";
  if (e.high_seconds < 120) return Range(e.low_seconds, e.high_seconds, "s");
  if (e.high_seconds < 2 * 3600) return Range(e.low_seconds / 60, e.high_seconds / 60, "min");
  return Range(e.low_seconds / 3600, e.high_seconds / 3600, "h");
}

std::string FormatRows(double rows) {
  if (rows >= 1e9) return fmt::format("{:.0f}G rows", rows / 1e9);
  if (rows >= 1e6) return fmt::format("{:.0f}M rows", rows / 1e6);
  if (rows >= 1e4) return fmt::format("{:.0f}K rows", rows / 1e3);
  if (rows >= 1e3) return fmt::format("{:.1f}K rows", rows / 1e3);
  return fmt::format("{:.0f} rows", rows);
}

std::string FormatBytes(long long bytes) {
  double b = static_cast<double>(bytes);
  if (b >= 1e12) return fmt::format("{:.1f} TB", b / 1e12);
  if (b >= 1e9) return fmt::format("{:.0f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.0f} MB", b / 1e6);
  return fmt::format("{:.0f} kB", std::max(1.0, b / 1e3));
}

}  // namespace tandem::verify
