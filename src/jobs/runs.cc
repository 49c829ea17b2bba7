// ClaimRun and FinishRun (transitions.h): a run of jobs claimed and finished in one statement
// each, with the same events and NOTIFY as one job's transitions.
#include <nlohmann/json.hpp>

#include "jobs/transitions.h"
#include "pg/quote.h"

namespace tandem::jobs {
namespace {

// {1,2,3} for bigint[] and int[].
std::string IntArray(const std::vector<long long>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out + "}";
}

// {"a","b"} for text[]: the values here (states, reasons from tandem itself) are quoted and
// escaped as array elements.
std::string TextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    out += i ? ",\"" : "\"";
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// The event every transition writes, for the rows in `u` (with from_status), `reason_sql` and
// `detail_sql` evaluated per row.
std::string EventInsert(const std::string& s, const std::string& detail_sql) {
  return "INSERT INTO " + s +
         ".events (version, event, actor, detail) SELECT u.version, 'job.' || u.status, $2, " +
         detail_sql +
         " || jsonb_build_object('job', u.id, 'kind', u.kind, 'name', u.name, 'from', "
         "u.from_status, 'to', u.status, 'attempt', u.attempts) FROM u";
}

}  // namespace

Result<std::vector<Job>> ClaimRun(pg::Connection& connection, const std::string& schema,
                                  const std::vector<long long>& ids, const Change& change) {
  std::string s = pg::QuoteIdentifier(schema);
  nlohmann::json detail = nlohmann::json::object();
  if (!change.reason.empty()) detail["reason"] = change.reason;
  std::string sql =
      "WITH cur AS (SELECT id, status FROM " + s +
      ".jobs WHERE id = ANY($1::bigint[]) AND status = 'queued' AND requested IS NULL "
      "ORDER BY id FOR UPDATE), "
      "u AS (UPDATE " +
      s +
      ".jobs j SET status = 'running', attempts = j.attempts + 1, started_at = "
      "coalesce(j.started_at, now()), run_after = NULL, worker = $2, finished_at = NULL, "
      "updated_at = clock_timestamp() FROM cur WHERE j.id = cur.id "
      "RETURNING j.*, cur.status AS from_status), "
      "e AS (" +
      EventInsert(s, "$3::jsonb") + ") SELECT " + JobColumns(/*with_sql=*/true) +
      ", pg_catalog.pg_notify('" + std::string(kNotifyChannel) + "', u.id::text) FROM u";
  TANDEM_ASSIGN_OR_RETURN(auto result,
                          connection.Query(sql, {IntArray(ids), change.actor, detail.dump()}));
  std::vector<Job> claimed = JobsFromResult(result);
  std::vector<Job> ordered;
  for (long long id : ids) {
    for (Job& job : claimed) {
      if (job.id == id) ordered.push_back(std::move(job));
    }
  }
  return ordered;
}

Status FinishRun(pg::Connection& connection, const std::string& schema,
                 const std::vector<RunOutcome>& outcomes, const std::string& actor) {
  if (outcomes.empty()) return Status::Ok();
  std::string s = pg::QuoteIdentifier(schema);
  std::vector<long long> ids, durations, statements;
  std::vector<std::string> states, reasons;
  for (const RunOutcome& o : outcomes) {
    ids.push_back(o.id);
    states.emplace_back(StatusName(o.to));
    durations.push_back(o.duration.count());
    statements.push_back(o.statements);
    reasons.push_back(o.reason);
  }
  std::string sql =
      "WITH d AS (SELECT * FROM unnest($1::bigint[], $3::text[], $4::bigint[], $5::int[], "
      "$6::text[]) AS d(id, state, duration_ms, statements, reason)), "
      "cur AS (SELECT j.id, j.status FROM " +
      s +
      ".jobs j JOIN d ON d.id = j.id WHERE j.status = 'running' ORDER BY j.id FOR UPDATE OF j), "
      "u AS (UPDATE " +
      s +
      ".jobs j SET status = d.state, requested = NULL, worker = NULL, "
      "statements_done = d.statements, duration_ms = d.duration_ms, "
      "finished_at = CASE WHEN d.state IN ('succeeded', 'cancelled') THEN now() END, "
      "attempts = CASE WHEN d.state = 'queued' THEN greatest(j.attempts - 1, 0) ELSE j.attempts "
      "END, started_at = CASE WHEN d.state = 'queued' AND j.attempts <= 1 THEN NULL ELSE "
      "j.started_at END, error_sqlstate = NULL, error_message = NULL, error_statement = NULL, "
      "error_file = "
      "NULL, error_line = NULL, error_column = NULL, error_detail = NULL, "
      "updated_at = clock_timestamp() FROM cur, d WHERE j.id = cur.id AND d.id = j.id "
      "RETURNING j.*, cur.status AS from_status, d.reason AS reason), "
      "e AS (" +
      EventInsert(s,
                  "jsonb_strip_nulls(jsonb_build_object('reason', nullif(u.reason, ''), "
                  "'duration_ms', u.duration_ms, 'lock_timeouts', 0, 'statements_done', "
                  "u.statements_done, 'statements_total', u.statements_total))") +
      ") SELECT pg_catalog.pg_notify('" + std::string(kNotifyChannel) + "', u.id::text) FROM u";
  TANDEM_ASSIGN_OR_RETURN(
      auto result,
      connection.Query(sql, {IntArray(ids), actor, TextArray(states), IntArray(durations),
                             IntArray(statements), TextArray(reasons)}));
  if (result.rows() != outcomes.size()) {
    return Status::Failed("recorded " + std::to_string(result.rows()) + " of " +
                          std::to_string(outcomes.size()) +
                          " job outcomes: the others were no longer running");
  }
  return Status::Ok();
}

}  // namespace tandem::jobs
