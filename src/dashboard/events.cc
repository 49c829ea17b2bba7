#include "dashboard/events.h"

#include <algorithm>

#include "pg/quote.h"

namespace tandem::dashboard {

Result<std::vector<EventRow>> ReadEvents(pg::Connection& connection, const std::string& schema,
                                         const EventFilter& filter) {
  std::vector<pg::Param> params = {
      filter.version.empty() ? pg::Param() : pg::Param(filter.version),
      filter.event.empty() ? pg::Param() : pg::Param(filter.event),
      filter.job ? pg::Param(std::to_string(*filter.job)) : pg::Param(),
      filter.before ? pg::Param(std::to_string(*filter.before)) : pg::Param(),
      filter.after ? pg::Param(std::to_string(*filter.after)) : pg::Param(),
      std::to_string(std::clamp(filter.limit, 1, 500))};
  std::string sql =
      "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
      "coalesce(version, ''), event, actor, detail::text FROM " +
      pg::QuoteIdentifier(schema) +
      ".events WHERE ($1::text IS NULL OR version = $1) "
      "AND ($2::text IS NULL OR starts_with(event, $2)) "
      "AND ($3::text IS NULL OR detail->>'job' = $3) "
      "AND ($4::bigint IS NULL OR id < $4) AND ($5::bigint IS NULL OR id > $5) ORDER BY id " +
      (filter.after ? "ASC" : "DESC") + " LIMIT $6::int";
  auto result = connection.Query(sql, params);
  if (!result.ok()) {
    // 42P01 undefined_table, 3F000 invalid_schema_name: nothing was ever recorded here.
    const std::string& state = result.status().sqlstate();
    if (state == "42P01" || state == "3F000") return std::vector<EventRow>{};
    return result.status();
  }
  std::vector<EventRow> rows;
  for (size_t r = 0; r < result->rows(); ++r) {
    rows.push_back({result->GetInt(r, 0), result->Get(r, 1), result->Get(r, 2), result->Get(r, 3),
                    result->Get(r, 4), result->Get(r, 5)});
  }
  return rows;
}

nlohmann::json EventJson(const std::string& target, const EventRow& row) {
  nlohmann::json detail = nlohmann::json::parse(row.detail, nullptr, false);
  if (detail.is_discarded()) detail = nlohmann::json::object();
  return {{"id", row.id},
          {"target", target},
          {"at", row.at},
          {"version", row.version.empty() ? nlohmann::json() : nlohmann::json(row.version)},
          {"event", row.event},
          {"actor", row.actor},
          {"detail", detail}};
}

}  // namespace tandem::dashboard
