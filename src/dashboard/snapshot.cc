#include "dashboard/snapshot.h"

#include <algorithm>
#include <chrono>

#include "background/progress.h"

namespace tandem::dashboard {

const std::vector<std::string>& TargetStates() {
  static const std::vector<std::string> kStates = {"unreachable", "failed", "running", "waiting",
                                                   "pending",     "ok",     "loading"};
  return kStates;
}

void Snapshot::Summarize() {
  migration_counts.clear();
  job_counts.clear();
  running_job = -1;
  oldest_queued = -1;
  for (const auto& row : migrations) migration_counts[row.status] += 1;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const jobs::Job& job = jobs[i];
    job_counts[std::string(jobs::StatusName(job.status))] += 1;
    if (job.status == jobs::JobStatus::kRunning && running_job < 0) {
      running_job = static_cast<int>(i);
    }
    if (job.status == jobs::JobStatus::kQueued &&
        (oldest_queued < 0 || job.queued_at < jobs[oldest_queued].queued_at)) {
      oldest_queued = static_cast<int>(i);
    }
  }
  auto jobs_in = [&](const char* name) {
    auto it = job_counts.find(name);
    return it == job_counts.end() ? 0 : it->second;
  };
  auto migrations_in = [&](const char* name) {
    auto it = migration_counts.find(name);
    return it == migration_counts.end() ? 0 : it->second;
  };
  if (!loaded) {
    state = "loading";
  } else if (!error.ok()) {
    state = "unreachable";
  } else if (jobs_in("failed") > 0 || migrations_in("failed") > 0) {
    state = "failed";
  } else if (jobs_in("running") > 0 || jobs_in("retrying") > 0 || migrations_in("running") > 0) {
    state = "running";
  } else if (jobs_in("paused") > 0 || jobs_in("awaiting-approval") > 0) {
    state = "waiting";
  } else if (jobs_in("queued") > 0 || migrations_in("pending") > 0) {
    state = "pending";
  } else {
    state = "ok";
  }
  const auto& states = TargetStates();
  rank = static_cast<int>(std::find(states.begin(), states.end(), state) - states.begin());
}

Result<Snapshot> ReadSnapshot(pg::Connection& connection, const std::string& schema) {
  Snapshot snapshot;
  TANDEM_ASSIGN_OR_RETURN(snapshot.migrations, migrate::ReadHistory(connection, schema));
  TANDEM_ASSIGN_OR_RETURN(snapshot.jobs, jobs::ListJobs(connection, schema, false));
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  snapshot.read_at = migrate::FormatEpochMillis(now.count());
  snapshot.loaded = true;
  snapshot.Summarize();
  return snapshot;
}

namespace {
nlohmann::json OrNull(const std::string& text) {
  return text.empty() ? nlohmann::json() : nlohmann::json(text);
}
}  // namespace

nlohmann::json JobJson(const std::string& target, const jobs::Job& job) {
  nlohmann::json out = {{"type", "job"},
                        {"target", target},
                        {"job", job.id},
                        {"id", job.id},
                        {"kind", job.kind},
                        {"version", job.version},
                        {"name", job.name},
                        {"status", jobs::StatusName(job.status)},
                        {"approved", job.approved},
                        {"requested", OrNull(job.requested)},
                        {"attempts", job.attempts},
                        {"worker", OrNull(job.worker)},
                        {"statements_done", job.statements_done},
                        {"statements_total", job.statements_total},
                        {"queued_at", OrNull(job.queued_at)},
                        {"started_at", OrNull(job.started_at)},
                        {"finished_at", OrNull(job.finished_at)},
                        {"run_after", OrNull(job.run_after)},
                        {"progress_text", ProgressText(job)},
                        {"progress_percent", ProgressPercent(job)}};
  out["duration_ms"] = job.duration_ms ? nlohmann::json(*job.duration_ms) : nlohmann::json();
  if (job.kind == "background" && !job.progress.empty()) {
    out["progress"] = background::ToJson(background::ParseProgress(job.progress));
  } else {
    out["progress"] = nullptr;
  }
  if (job.error) {
    out["error"] = {{"sqlstate", job.error->sqlstate},   {"message", job.error->message},
                    {"statement", job.error->statement}, {"file", job.error->file},
                    {"line", job.error->line},           {"column", job.error->column},
                    {"detail", job.error->detail}};
  } else {
    out["error"] = nullptr;
  }
  return out;
}

nlohmann::json MigrationJson(const migrate::HistoryRow& row) {
  nlohmann::json out = {{"version", row.version},
                        {"name", row.name},
                        {"phase", row.phase},
                        {"status", row.status},
                        {"attempts", row.attempts},
                        {"statements_done", row.statements_done},
                        {"statements_total", row.statements_total},
                        {"started_at", OrNull(row.started_at)},
                        {"finished_at", OrNull(row.finished_at)},
                        {"applied_by", OrNull(row.applied_by)},
                        {"adopted_from", OrNull(row.adopted_from)}};
  out["duration_ms"] = row.duration_ms ? nlohmann::json(*row.duration_ms) : nlohmann::json();
  if (!row.error_message.empty() || !row.error_sqlstate.empty()) {
    out["error"] = {{"sqlstate", row.error_sqlstate},   {"message", row.error_message},
                    {"statement", row.error_statement}, {"file", row.error_file},
                    {"line", row.error_line},           {"column", row.error_column}};
  } else {
    out["error"] = nullptr;
  }
  return out;
}

nlohmann::json SummaryJson(const std::string& target, const Snapshot& s) {
  nlohmann::json out = {{"type", "target"},
                        {"target", target},
                        {"state", s.state},
                        {"read_at", OrNull(s.read_at)},
                        {"migrations", s.migration_counts},
                        {"jobs", s.job_counts}};
  out["error"] = s.error.ok() ? nlohmann::json() : nlohmann::json(s.error.message());
  if (s.running_job >= 0) {
    const jobs::Job& job = s.jobs[s.running_job];
    out["running"] = {{"job", job.id},
                      {"version", job.version},
                      {"name", job.name},
                      {"kind", job.kind},
                      {"progress_text", ProgressText(job)},
                      {"progress_percent", ProgressPercent(job)}};
  } else {
    out["running"] = nullptr;
  }
  if (s.oldest_queued >= 0) {
    const jobs::Job& job = s.jobs[s.oldest_queued];
    out["oldest_queued"] = {{"job", job.id},
                            {"version", job.version},
                            {"name", job.name},
                            {"queued_at", job.queued_at}};
  } else {
    out["oldest_queued"] = nullptr;
  }
  return out;
}

std::string ProgressText(const jobs::Job& job) {
  if (job.kind == "background") {
    if (job.progress.empty() || job.progress == "{}") return "";
    return background::Summary(background::ParseProgress(job.progress));
  }
  if (job.statements_total <= 0) return "";
  return std::to_string(job.statements_done) + " of " + std::to_string(job.statements_total) +
         " statements";
}

int ProgressPercent(const jobs::Job& job) {
  if (job.kind == "background") {
    if (job.progress.empty()) return -1;
    background::Progress p = background::ParseProgress(job.progress);
    if (p.done) return 100;
    if (p.estimated_total <= 0) return -1;
    return static_cast<int>(std::min<long long>(100, p.rows_done * 100 / p.estimated_total));
  }
  if (job.statements_total <= 0) return -1;
  return job.statements_done * 100 / job.statements_total;
}

}  // namespace tandem::dashboard
