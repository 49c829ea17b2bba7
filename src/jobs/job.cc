#include "jobs/job.h"

#include <cstdlib>

#include "migrate/state.h"
#include "pg/quote.h"

namespace tandem::jobs {
namespace {

constexpr std::string_view kStatusNames[] = {
    "queued", "awaiting-approval", "running", "retrying",
    "paused", "succeeded",         "failed",  "cancelled",
};

// Timestamps leave the database as ISO 8601 in UTC, whatever the session's TimeZone.
std::string Iso(std::string_view column) {
  std::string c(column);
  return "to_char(" + c + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS " + c;
}

}  // namespace

std::string JobColumns(bool with_sql) {
  std::string columns =
      "id, kind, version, name, status, approved, coalesce(requested, '') AS requested, layout, "
      "path, sql_line, checksum, transactional, lock_timeout_ms, statement_timeout_ms, attempts, "
      "worker, statements_done, statements_total, duration_ms, error_sqlstate, error_message, "
      "error_statement, error_file, error_line, error_column, coalesce(error_detail, '') AS "
      "error_detail, coalesce(batch::text, '') AS batch, "
      "progress::text AS progress, " +
      Iso("run_after") + ", " + Iso("queued_at") + ", " + Iso("started_at") + ", " +
      Iso("finished_at") + ", " + Iso("updated_at");
  columns += with_sql ? ", sql" : ", '' AS sql";
  return columns;
}

namespace {

std::optional<long long> OptionalInt(const pg::QueryResult& r, size_t row, std::string_view c) {
  int index = r.ColumnIndex(c);
  if (r.IsNull(row, index)) return std::nullopt;
  return r.GetInt(row, index);
}

int IntOr0(const pg::QueryResult& r, size_t row, std::string_view c) {
  return static_cast<int>(OptionalInt(r, row, c).value_or(0));
}

}  // namespace

std::string_view StatusName(JobStatus status) { return kStatusNames[static_cast<int>(status)]; }

std::optional<JobStatus> ParseStatus(std::string_view name) {
  for (size_t i = 0; i < std::size(kStatusNames); ++i) {
    if (kStatusNames[i] == name) return static_cast<JobStatus>(i);
  }
  return std::nullopt;
}

bool IsTransient(const Status& error) {
  const std::string& code = error.sqlstate();
  if (error.code() == StatusCode::kUnavailable) return true;
  return code == "55P03" || code == "40P01" || code == "40001" || code.rfind("08", 0) == 0 ||
         code == "57P01" || code == "57P02" || code == "57P03" || code == "53300";
}

std::vector<std::string> PersonNextCommands(JobStatus status, const std::string& id) {
  switch (status) {
    case JobStatus::kFailed:
      return {"tandem jobs retry " + id, "tandem jobs cancel " + id};
    case JobStatus::kAwaitingApproval:
      return {"tandem jobs approve " + id};
    case JobStatus::kPaused:
      return {"tandem jobs resume " + id};
    default:
      return {};
  }
}

bool IsDone(JobStatus status) {
  return status == JobStatus::kSucceeded || status == JobStatus::kCancelled;
}

std::string ResolveActor(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("TANDEM_ACTOR"); env && *env) return env;
  return migrate::Actor();
}

migrate::Migration MigrationOf(const Job& job) {
  migrate::Migration m;
  m.version = job.version;
  m.name = job.name;
  m.paths = {job.path};
  m.phase = job.kind == "background" ? migrate::Phase::kBackground : migrate::Phase::kPostDeploy;
  m.transactional = job.transactional;
  if (job.lock_timeout_ms) m.lock_timeout = Duration(*job.lock_timeout_ms);
  if (job.statement_timeout_ms) m.statement_timeout = Duration(*job.statement_timeout_ms);
  m.up.present = true;
  m.up.path = job.path;
  m.up.text = job.sql;
  m.up.text_line = job.sql_line;
  m.up.location = {job.path, job.sql_line, 1};
  m.checksum = job.checksum;
  // The recorded checksum is the one history rows and drift checks compare with.
  size_t slash = job.checksum.find('/');
  m.up_checksum = job.checksum.substr(0, slash);
  if (slash != std::string::npos) m.down_checksum = job.checksum.substr(slash + 1);
  return m;
}

Result<bool> JobsTableExists(pg::Connection& connection, const std::string& schema) {
  TANDEM_ASSIGN_OR_RETURN(
      auto result,
      connection.Query("SELECT pg_catalog.to_regclass(pg_catalog.quote_ident($1) || '.jobs')"
                       " IS NOT NULL",
                       {schema}));
  return result.GetBool(0, 0);
}

std::vector<Job> JobsFromResult(const pg::QueryResult& r) {
  std::vector<Job> jobs;
  jobs.reserve(r.rows());
  for (size_t i = 0; i < r.rows(); ++i) {
    Job j;
    j.id = r.GetInt(i, r.ColumnIndex("id"));
    j.kind = r.Get(i, "kind");
    j.version = r.Get(i, "version");
    j.name = r.Get(i, "name");
    j.status = ParseStatus(r.Get(i, "status")).value_or(JobStatus::kQueued);
    j.approved = r.Get(i, "approved") == "t";
    j.requested = r.Get(i, "requested");
    j.layout = r.Get(i, "layout");
    j.path = r.Get(i, "path");
    j.sql = r.Get(i, "sql");
    j.sql_line = IntOr0(r, i, "sql_line");
    j.checksum = r.Get(i, "checksum");
    j.transactional = r.Get(i, "transactional") == "t";
    j.lock_timeout_ms = OptionalInt(r, i, "lock_timeout_ms");
    j.statement_timeout_ms = OptionalInt(r, i, "statement_timeout_ms");
    j.attempts = IntOr0(r, i, "attempts");
    j.run_after = r.Get(i, "run_after");
    j.worker = r.Get(i, "worker");
    j.statements_done = IntOr0(r, i, "statements_done");
    j.statements_total = IntOr0(r, i, "statements_total");
    j.queued_at = r.Get(i, "queued_at");
    j.started_at = r.Get(i, "started_at");
    j.finished_at = r.Get(i, "finished_at");
    j.updated_at = r.Get(i, "updated_at");
    j.duration_ms = OptionalInt(r, i, "duration_ms");
    j.batch = r.Get(i, "batch");
    j.progress = r.Get(i, "progress");
    if (!r.Get(i, "error_message").empty() || !r.Get(i, "error_sqlstate").empty()) {
      JobError e;
      e.sqlstate = r.Get(i, "error_sqlstate");
      e.message = r.Get(i, "error_message");
      e.statement = r.Get(i, "error_statement");
      e.file = r.Get(i, "error_file");
      e.line = IntOr0(r, i, "error_line");
      e.column = IntOr0(r, i, "error_column");
      e.detail = r.Get(i, "error_detail");
      j.error = std::move(e);
    }
    jobs.push_back(std::move(j));
  }
  return jobs;
}

Result<std::vector<Job>> ListJobs(pg::Connection& connection, const std::string& schema,
                                  bool with_sql) {
  TANDEM_ASSIGN_OR_RETURN(bool exists, JobsTableExists(connection, schema));
  if (!exists) return std::vector<Job>{};
  TANDEM_ASSIGN_OR_RETURN(auto result,
                          connection.Query("SELECT " + JobColumns(with_sql) + " FROM " +
                                           pg::QuoteIdentifier(schema) + ".jobs ORDER BY id"));
  return JobsFromResult(result);
}

Result<std::optional<Job>> FindJob(pg::Connection& connection, const std::string& schema,
                                   long long id, bool with_sql) {
  TANDEM_ASSIGN_OR_RETURN(bool exists, JobsTableExists(connection, schema));
  if (!exists) return std::optional<Job>{};
  TANDEM_ASSIGN_OR_RETURN(auto result,
                          connection.Query("SELECT " + JobColumns(with_sql) + " FROM " +
                                               pg::QuoteIdentifier(schema) + ".jobs WHERE id = $1",
                                           {std::to_string(id)}));
  std::vector<Job> jobs = JobsFromResult(result);
  if (jobs.empty()) return std::optional<Job>{};
  return std::optional<Job>(std::move(jobs.front()));
}

Result<std::vector<Job>> ListOpenJobs(pg::Connection& connection, const std::string& schema) {
  auto result =
      connection.Query("SELECT " + JobColumns(false) + " FROM " + pg::QuoteIdentifier(schema) +
                       ".jobs WHERE status NOT IN ('succeeded', 'cancelled') "
                       "ORDER BY id");
  // 42P01: no jobs table yet; 3F000: no state schema yet.
  if (!result.ok() &&
      (result.status().sqlstate() == "42P01" || result.status().sqlstate() == "3F000")) {
    return std::vector<Job>{};
  }
  if (!result.ok()) return result.status();
  return JobsFromResult(*result);
}

}  // namespace tandem::jobs
