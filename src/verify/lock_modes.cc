// The lock conflict table, copied from the PostgreSQL docs (Table 13.2, "Conflicting Lock
// Modes"), so that verify can say what a lock it observed blocks.
#include "verify/lock_modes.h"

#include <array>

namespace tandem::verify {
namespace {

struct ModeInfo {
  LockMode mode;
  std::string_view pg_name;
  std::string_view sql_name;
};

constexpr std::array<ModeInfo, 8> kModes = {{
    {LockMode::kAccessShare, "AccessShareLock", "ACCESS SHARE"},
    {LockMode::kRowShare, "RowShareLock", "ROW SHARE"},
    {LockMode::kRowExclusive, "RowExclusiveLock", "ROW EXCLUSIVE"},
    {LockMode::kShareUpdateExclusive, "ShareUpdateExclusiveLock", "SHARE UPDATE EXCLUSIVE"},
    {LockMode::kShare, "ShareLock", "SHARE"},
    {LockMode::kShareRowExclusive, "ShareRowExclusiveLock", "SHARE ROW EXCLUSIVE"},
    {LockMode::kExclusive, "ExclusiveLock", "EXCLUSIVE"},
    {LockMode::kAccessExclusive, "AccessExclusiveLock", "ACCESS EXCLUSIVE"},
}};

// kConflicts[a] has bit b set when mode a conflicts with mode b (the table is symmetric).
constexpr std::array<unsigned, 8> kConflicts = {
    0b10000000,  // ACCESS SHARE: ACCESS EXCLUSIVE
    0b11000000,  // ROW SHARE: EXCLUSIVE, ACCESS EXCLUSIVE
    0b11110000,  // ROW EXCLUSIVE: SHARE and stronger
    0b11111000,  // SHARE UPDATE EXCLUSIVE: itself and stronger
    0b11101100,  // SHARE: ROW EXCLUSIVE, SHARE UPDATE EXCLUSIVE, SHARE ROW EXCL., EXCL., AE
    0b11111100,  // SHARE ROW EXCLUSIVE: ROW EXCLUSIVE and stronger
    0b11111110,  // EXCLUSIVE: everything but ACCESS SHARE
    0b11111111,  // ACCESS EXCLUSIVE: everything
};

}  // namespace

std::optional<LockMode> ParseLockMode(std::string_view pg_locks_mode) {
  for (const auto& m : kModes) {
    if (m.pg_name == pg_locks_mode) return m.mode;
  }
  return std::nullopt;
}

std::string_view LockModeSql(LockMode mode) { return kModes[static_cast<int>(mode)].sql_name; }
std::string_view LockModeName(LockMode mode) { return kModes[static_cast<int>(mode)].pg_name; }

bool Conflicts(LockMode held, LockMode requested) {
  return (kConflicts[static_cast<int>(held)] >> static_cast<int>(requested)) & 1u;
}

LockImpact ImpactOf(LockMode mode) {
  LockImpact impact;
  impact.blocks_reads = Conflicts(mode, LockMode::kAccessShare);
  impact.blocks_writes = Conflicts(mode, LockMode::kRowExclusive);
  impact.blocks_schema_changes = Conflicts(mode, LockMode::kAccessExclusive);
  return impact;
}

std::vector<std::string> BlockedList(LockMode mode) {
  LockImpact impact = ImpactOf(mode);
  std::vector<std::string> out;
  if (impact.blocks_reads) out.push_back("reads");
  if (impact.blocks_writes) out.push_back("writes");
  if (impact.blocks_schema_changes) out.push_back("schema changes");
  return out;
}

std::string DescribeImpact(LockMode mode) {
  LockImpact impact = ImpactOf(mode);
  if (impact.blocks_reads) return "blocks reads and writes";
  if (impact.blocks_writes) return "blocks writes";
  return "blocks only schema changes";
}

}  // namespace tandem::verify
