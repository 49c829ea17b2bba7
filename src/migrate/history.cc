#include "migrate/history.h"

#include <cstdio>
#include <ctime>
#include <map>

#include "migrate/state.h"
#include "pg/quote.h"

namespace tandem::migrate {

std::string_view StateName(MigrationState state) {
  switch (state) {
    case MigrationState::kApplied:
      return "applied";
    case MigrationState::kPending:
      return "pending";
    case MigrationState::kFailed:
      return "failed";
    case MigrationState::kDrifted:
      return "drifted";
    case MigrationState::kMissingFile:
      return "missing-file";
    case MigrationState::kRunning:
      return "running";
  }
  return "unknown";
}

void MarkRunning(std::vector<StatusEntry>& entries, bool runner_lock_held) {
  if (!runner_lock_held) return;
  for (StatusEntry& e : entries) {
    if (e.row && e.row->status == "running" && e.state == MigrationState::kFailed)
      e.state = MigrationState::kRunning;
  }
}

std::string FormatEpochMillis(long long millis) {
  time_t seconds = static_cast<time_t>(millis / 1000);
  struct tm utc;
  gmtime_r(&seconds, &utc);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis % 1000);
  return buf;
}

std::vector<std::string> ParseTextArray(const std::string& literal) {
  std::vector<std::string> out;
  if (literal.size() < 2) return out;
  std::string body = literal.substr(1, literal.size() - 2);
  size_t pos = 0;
  while (pos <= body.size() && !body.empty()) {
    size_t comma = body.find(',', pos);
    if (comma == std::string::npos) comma = body.size();
    std::string item = body.substr(pos, comma - pos);
    if (item.size() >= 2 && item.front() == '"') item = item.substr(1, item.size() - 2);
    out.push_back(item);
    pos = comma + 1;
    if (comma == body.size()) break;
  }
  return out;
}

std::string ToTextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ",";
    out += "\"" + items[i] + "\"";
  }
  return out + "}";
}

Result<std::vector<HistoryRow>> ReadHistory(pg::Connection& connection, const std::string& schema) {
  TANDEM_ASSIGN_OR_RETURN(bool exists, StateSchemaExists(connection, schema));
  if (!exists) return std::vector<HistoryRow>{};
  return ReadHistoryWhere(connection, schema, "", {});
}

Result<std::vector<HistoryRow>> ReadHistoryWhere(pg::Connection& connection,
                                                 const std::string& schema,
                                                 const std::string& where,
                                                 const std::vector<pg::Param>& params) {
  TANDEM_ASSIGN_OR_RETURN(
      auto result,
      connection.Query(
          "SELECT version, name, phase, checksum, status, transactional, attempts, "
          "statements_done, statements_total, statement_checksums::text, out_of_order, "
          // Epoch milliseconds, formatted here: to_char cost half of this query's time
          // over 10,000 rows, and text output would depend on the session's DateStyle.
          "(extract(epoch FROM started_at) * 1000)::bigint, "
          "(extract(epoch FROM finished_at) * 1000)::bigint, duration_ms, "
          "coalesce(error_sqlstate, ''), coalesce(error_message, ''), "
          "coalesce(error_statement, ''), coalesce(error_file, ''), coalesce(error_line, 0), "
          "coalesce(error_column, 0), "
          "coalesce(applied_by_host || ' pid ' || applied_by_pid || ' tandem ' || "
          "tandem_version, ''), coalesce(adopted_from, '') FROM " +
              pg::QuoteIdentifier(schema) + ".migrations" +
              (where.empty() ? "" : " WHERE " + where),
          params));
  std::vector<HistoryRow> rows;
  rows.reserve(result.rows());
  for (size_t r = 0; r < result.rows(); ++r) {
    HistoryRow row;
    row.version = result.Get(r, 0);
    row.name = result.Get(r, 1);
    row.phase = result.Get(r, 2);
    row.checksum = result.Get(r, 3);
    row.status = result.Get(r, 4);
    row.transactional = result.GetBool(r, 5);
    row.attempts = static_cast<int>(result.GetInt(r, 6));
    row.statements_done = static_cast<int>(result.GetInt(r, 7));
    row.statements_total = static_cast<int>(result.GetInt(r, 8));
    row.statement_checksums = ParseTextArray(result.Get(r, 9));
    row.out_of_order = result.GetBool(r, 10);
    row.started_at = result.IsNull(r, 11) ? "" : FormatEpochMillis(result.GetInt(r, 11));
    row.finished_at = result.IsNull(r, 12) ? "" : FormatEpochMillis(result.GetInt(r, 12));
    if (!result.IsNull(r, 13)) row.duration_ms = result.GetInt(r, 13);
    row.error_sqlstate = result.Get(r, 14);
    row.error_message = result.Get(r, 15);
    row.error_statement = result.Get(r, 16);
    row.error_file = result.Get(r, 17);
    row.error_line = static_cast<int>(result.GetInt(r, 18));
    row.error_column = static_cast<int>(result.GetInt(r, 19));
    row.applied_by = result.Get(r, 20);
    row.adopted_from = result.Get(r, 21);
    rows.push_back(std::move(row));
  }
  return rows;
}

ChecksumMatch MatchRecordedChecksum(const Migration& migration, const std::string& recorded) {
  ChecksumMatch match;
  // Rows adopted from tools that record no checksum, and files loaded without checksums.
  if (recorded.empty() || migration.checksum.empty()) {
    match.up_unchanged = true;
    return match;
  }
  size_t slash = recorded.find('/');
  if (slash != std::string::npos) {
    match.up_unchanged = recorded.compare(0, slash, migration.up_checksum) == 0;
    match.down_changed =
        recorded.compare(slash + 1, std::string::npos, migration.down_checksum) != 0;
    return match;
  }
  if (recorded == migration.up_checksum) {
    // Recorded without a down part: one was added since.
    match.up_unchanged = true;
    match.down_changed = !migration.down_checksum.empty();
    return match;
  }
  // A whole-file checksum recorded before up and down were separated: unchanged files still
  // match it; a changed one cannot tell which part changed, so it counts as drift.
  match.up_unchanged = recorded == migration.legacy_checksum;
  return match;
}

std::vector<StatusEntry> ComputeStatus(const MigrationSet& files,
                                       const std::vector<HistoryRow>& history) {
  auto less = [&files](const std::string& a, const std::string& b) {
    return files.Compare(a, b) < 0;
  };
  std::map<std::string, const HistoryRow*, decltype(less)> rows(less);
  for (const auto& row : history) rows[row.version] = &row;

  // The newest version that is applied (succeeded), for out-of-order detection.
  const std::string* newest_applied = nullptr;
  for (const auto& [version, row] : rows) {
    if (row->status == "succeeded") newest_applied = &row->version;
  }

  std::vector<StatusEntry> entries;
  entries.reserve(files.migrations.size() + history.size());
  auto row_it = rows.begin();
  auto emit_missing = [&](const HistoryRow* row) {
    // Reverted or recorded-but-never-run versions whose files are gone are not "applied":
    // only rows that changed the schema count as missing files.
    if (row->status == "pending") return;
    StatusEntry e;
    e.version = row->version;
    e.name = row->name;
    e.phase = ParsePhase(row->phase).value_or(Phase::kPreDeploy);
    e.state = MigrationState::kMissingFile;
    e.row = row;
    entries.push_back(std::move(e));
  };
  for (const Migration& m : files.migrations) {
    while (row_it != rows.end() && files.Compare(row_it->first, m.version) < 0) {
      emit_missing(row_it->second);
      ++row_it;
    }
    StatusEntry e;
    e.version = m.version;
    e.name = m.name;
    e.phase = m.phase;
    e.migration = &m;
    if (row_it != rows.end() && files.Compare(row_it->first, m.version) == 0) {
      const HistoryRow* row = row_it->second;
      e.row = row;
      ++row_it;
      if (row->status == "succeeded") {
        ChecksumMatch match = MatchRecordedChecksum(m, row->checksum);
        e.state = match.up_unchanged ? MigrationState::kApplied : MigrationState::kDrifted;
        e.down_changed = match.up_unchanged && match.down_changed;
      } else if (row->status == "failed" || row->status == "running") {
        // "running" in the table with the runner lock free means the runner died mid-way.
        e.state = MigrationState::kFailed;
      } else {
        e.state = MigrationState::kPending;
      }
    } else {
      e.state = MigrationState::kPending;
    }
    if (e.state == MigrationState::kPending && newest_applied &&
        files.Compare(m.version, *newest_applied) < 0) {
      e.out_of_order = true;
    }
    entries.push_back(std::move(e));
  }
  for (; row_it != rows.end(); ++row_it) emit_missing(row_it->second);
  return entries;
}

}  // namespace tandem::migrate
