#include "background/runner.h"

#include <chrono>
#include <climits>
#include <nlohmann/json.hpp>

#include "background/placeholders.h"
#include "base/interrupt.h"
#include "jobs/transitions.h"
#include "pg/quote.h"
#include "release/backoff.h"
#include "sql/parser.h"

namespace tandem::background {
namespace {

using Clock = std::chrono::steady_clock;
using jobs::JobStatus;

// Worth another try of the same batch: busy or briefly unavailable, not wrong.
bool IsTransient(const Status& error) {
  const std::string& code = error.sqlstate();
  if (error.code() == StatusCode::kUnavailable) return true;
  return code == "55P03" || code == "40P01" || code == "40001" || code.rfind("08", 0) == 0 ||
         code == "57P01" || code == "57P02" || code == "57P03" || code == "53300";
}

// "UPDATE 12", "DELETE 3", "INSERT 0 5": the last number.
long long AffectedRows(const std::string& tag) {
  size_t space = tag.rfind(' ');
  if (space == std::string::npos) return 0;
  try {
    return std::stoll(tag.substr(space + 1));
  } catch (...) {
    return 0;
  }
}

enum class Step { kCommitted, kRequested, kNotRunning, kMoved };

class Runner {
 public:
  Runner(pg::Connection& connection, const std::string& schema, const jobs::Job& job,
         const RunnerSettings& settings, const ThrottleCheck& throttle)
      : c_(connection), schema_(schema), job_(job), settings_(settings), throttle_(throttle) {}

  RunResult Run();

 private:
  RunResult Fail(const Status& status, std::string reason) {
    RunResult r;
    r.to = JobStatus::kFailed;
    r.reason = std::move(reason);
    jobs::JobError e;
    e.sqlstate = status.sqlstate();
    e.message = status.message();
    if (!status.detail().empty()) e.message += " (" + status.detail() + ")";
    e.statement = statement_;
    e.file = job_.path;
    e.line = job_.sql_line + statement_line_ - 1;
    e.column = 1;
    r.error = e;
    r.progress = p_;
    return r;
  }
  RunResult Stop(JobStatus to, std::string reason, bool lost = false) {
    RunResult r;
    r.to = to;
    r.reason = std::move(reason);
    r.lost = lost;
    r.progress = p_;
    return r;
  }
  RunResult Requested() {
    if (requested_ == "cancel") {
      return Stop(JobStatus::kCancelled, "cancelled by a person at a batch boundary");
    }
    return Stop(JobStatus::kPaused, "paused by a person at a batch boundary");
  }
  void Rollback() {
    if (c_.alive() && c_.in_transaction()) (void)c_.Exec("ROLLBACK");
  }
  Status Begin() {
    TANDEM_RETURN_IF_ERROR(c_.Exec("BEGIN"));
    return c_.Exec(
        "SELECT pg_catalog.set_config('lock_timeout', $1, true), "
        "pg_catalog.set_config('statement_timeout', $2, true)",
        {std::to_string(settings_.lock_timeout.count()) + "ms",
         std::to_string(settings_.statement_timeout.count()) + "ms"});
  }
  Status Prepare();
  Result<Step> Start();
  // One transaction: lock the job row, compare-and-set the cursor, `work` (the batch), record.
  Result<Step> InBatch(const std::function<Status(Progress& next)>& work);
  Status Batch(Progress& next, long long start, long long end);

  pg::Connection& c_;
  const std::string& schema_;
  const jobs::Job& job_;
  const RunnerSettings& settings_;
  const ThrottleCheck& throttle_;
  std::string table_;  // quoted, qualified
  std::string key_;    // quoted
  std::string key_type_;
  std::string kind_;  // "integer" or "ctid"
  long long reltuples_ = 0;
  long long fixed_size_ = 0;
  std::string statement_;  // with $1 / $2
  int statement_line_ = 1;
  Progress p_;  // as committed by the last batch this runner saw
  std::string requested_;
  long long pending_splits_ = 0;
  long long throttled_ms_ = 0;  // waited since the last committed progress
};

Status Runner::Prepare() {
  auto batch = nlohmann::json::parse(job_.batch, nullptr, false);
  if (!batch.is_object() || !batch.contains("table") || !batch.contains("key")) {
    return Status::InvalidInput("the job has no batch directive")
        .WithHint("add -- tandem:batch table=... key=... size=auto to the migration");
  }
  std::string table = batch.value("table", "");
  std::string key = batch.value("key", "");
  if (batch.contains("size") && batch["size"].is_number()) {
    fixed_size_ = batch["size"].get<long long>();
  }
  TANDEM_ASSIGN_OR_RETURN(BoundStatement bound, BindPlaceholders(job_.sql));
  if (!bound.has_start || !bound.has_end) {
    return Status::InvalidInput("a background migration must use both :batch_start and :batch_end")
        .WithHint("write WHERE key >= :batch_start AND key < :batch_end");
  }
  statement_ = bound.sql;
  // The line the statement starts on, within the section (comments before it skipped).
  if (auto split = sql::SplitStatements(job_.sql); split.ok() && !split->empty()) {
    statement_line_ = split->front().start.line;
  }
  TANDEM_ASSIGN_OR_RETURN(
      auto found,
      c_.Query("SELECT n.nspname, c.relname, greatest(c.reltuples, 0)::bigint, "
               "a.atttypid::regtype::text FROM pg_catalog.pg_class c "
               "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
               "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = $2 "
               "AND NOT a.attisdropped AND a.attnum > 0 "
               "WHERE c.oid = pg_catalog.to_regclass($1)",
               {table, key}));
  if (found.rows() == 0) {
    return Status::InvalidInput("table " + table + " of the batch directive does not exist");
  }
  table_ = pg::QuoteQualified(found.Get(0, 0), found.Get(0, 1));
  reltuples_ = found.GetInt(0, 2);
  key_type_ = found.Get(0, 3);
  if (key == "ctid") {
    // Block ranges: a table without a usable key (tid range scans, PostgreSQL 14+).
    kind_ = "ctid";
    return Status::Ok();
  }
  if (found.IsNull(0, 3)) {
    return Status::InvalidInput("table " + table + " has no column " + key +
                                " (the key of the batch directive)");
  }
  if (key_type_ != "bigint" && key_type_ != "integer" && key_type_ != "smallint") {
    return Status::InvalidInput("key " + key + " of type " + key_type_ +
                                " is not supported yet: only integer keys are batched")
        .WithHint("use an integer key for now (keyset keys are planned)");
  }
  key_ = pg::QuoteIdentifier(key);
  kind_ = "integer";
  return Status::Ok();
}

Result<Step> Runner::Start() {
  TANDEM_RETURN_IF_ERROR(Begin());
  TANDEM_ASSIGN_OR_RETURN(auto locked, jobs::LockProgress(c_, schema_, job_.id));
  if (!locked.running) return Step::kNotRunning;
  Progress q = ParseProgress(locked.progress);
  if (!q.key_kind.empty()) {
    p_ = q;
    TANDEM_RETURN_IF_ERROR(c_.Exec("COMMIT"));
    return Step::kCommitted;
  }
  // First start: the bounds now. Rows inserted later are the application's to write.
  // ctid: the table's blocks now (new blocks hold rows the application wrote since).
  std::string bounds_sql =
      kind_ == "ctid"
          ? "SELECT 0::bigint, nullif(pg_catalog.pg_relation_size($1::regclass) / "
            "pg_catalog.current_setting('block_size')::bigint, 0) - 1"
          : "SELECT min(" + key_ + ")::bigint, max(" + key_ + ")::bigint FROM " + table_;
  std::vector<pg::Param> params;
  if (kind_ == "ctid") params.push_back(table_);
  TANDEM_ASSIGN_OR_RETURN(auto bounds, c_.Query(bounds_sql, params));
  q.key_kind = kind_;
  q.estimated_total = reltuples_;
  q.batch_size = Sizer(settings_.sizer, fixed_size_, 0).size();
  if (kind_ == "ctid" && fixed_size_ == 0) {
    // A block holds tens to hundreds of rows: start from as many rows as an integer key would.
    q.batch_size = std::max(settings_.sizer.min_size, q.batch_size / 50);
  }
  if (bounds.IsNull(0, 0) || bounds.IsNull(0, 1)) {
    q.done = true;
  } else {
    q.min = bounds.GetInt(0, 0);
    q.max = bounds.GetInt(0, 1);
    q.cursor = std::to_string(*q.min);
  }
  TANDEM_RETURN_IF_ERROR(jobs::RecordProgress(c_, schema_, job_.id, ToText(q)));
  TANDEM_RETURN_IF_ERROR(c_.Exec("COMMIT"));
  p_ = q;
  return Step::kCommitted;
}

Result<Step> Runner::InBatch(const std::function<Status(Progress& next)>& work) {
  TANDEM_RETURN_IF_ERROR(Begin());
  TANDEM_ASSIGN_OR_RETURN(auto locked, jobs::LockProgress(c_, schema_, job_.id));
  if (!locked.running) return Step::kNotRunning;
  if (!locked.requested.empty()) {
    requested_ = locked.requested;
    return Step::kRequested;
  }
  Progress q = ParseProgress(locked.progress);
  if (q.cursor != p_.cursor || q.batches != p_.batches || q.done != p_.done) {
    p_ = q;  // someone else moved it: never run a range twice, go on from theirs
    return Step::kMoved;
  }
  Progress next = p_;
  TANDEM_RETURN_IF_ERROR(work(next));
  TANDEM_RETURN_IF_ERROR(jobs::RecordProgress(c_, schema_, job_.id, ToText(next)));
  TANDEM_RETURN_IF_ERROR(c_.Exec("COMMIT"));
  p_ = next;
  return Step::kCommitted;
}

Status Runner::Batch(Progress& next, long long start, long long end) {
  auto began = Clock::now();
  auto bound = [&](long long key) {
    return kind_ == "ctid" ? "(" + std::to_string(key) + ",0)" : std::to_string(key);
  };
  TANDEM_ASSIGN_OR_RETURN(auto result, c_.Query(statement_, {bound(start), bound(end)}));
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began);
  long long rows = AffectedRows(result.command_tag());
  next.cursor = std::to_string(end);
  next.done = end > *next.max;
  next.batches += 1;
  next.rows_done += rows;
  next.last_batch_ms = took.count() / 1000;
  next.busy_ms += took.count() / 1000;
  next.splits += pending_splits_;
  next.throttled_ms += throttled_ms_;
  next.throttled_reason.clear();
  next.throttled_value.clear();
  double seconds = std::max(took.count(), 1L) / 1e6;
  double rate = rows / seconds;
  next.rate = next.rate <= 0 ? rate : 0.7 * next.rate + 0.3 * rate;
  // The estimate from the key range covered so far, once there is enough of it to go on.
  double span = static_cast<double>(*next.max) - static_cast<double>(*next.min) + 1;
  double covered = (static_cast<double>(end) - static_cast<double>(*next.min)) / span;
  if (next.done) {
    next.estimated_total = next.rows_done;
  } else if (covered >= 0.05 && next.batches >= 3) {
    next.estimated_total = static_cast<long long>(next.rows_done / covered);
  }
  return Status::Ok();
}

RunResult Runner::Run() {
  if (Status s = Prepare(); !s.ok()) {
    if (!c_.alive()) return Stop(JobStatus::kQueued, s.message(), /*lost=*/true);
    return Fail(s, "the background migration cannot be batched");
  }
  for (int attempt = 1;; ++attempt) {
    auto started = Start();
    if (started.ok()) {
      if (*started == Step::kNotRunning) {
        Rollback();
        return Stop(JobStatus::kQueued, "the job is no longer running", true);
      }
      break;
    }
    Rollback();
    if (!c_.alive()) return Stop(JobStatus::kQueued, started.status().message(), true);
    if (!IsTransient(started.status()) || attempt >= settings_.max_attempts) {
      return Fail(started.status(), "could not read the bounds of the key");
    }
    interrupt::SleepFor(settings_.backoff_initial * attempt);
  }
  Sizer sizer(settings_.sizer, fixed_size_, p_.batch_size);
  release::Backoff backoff({settings_.backoff_initial, settings_.backoff_max}, settings_.seed);
  int failures = 0;
  while (true) {
    if (p_.done) return Stop(JobStatus::kSucceeded, "");
    if (interrupt::Requested()) {
      return Stop(JobStatus::kQueued, "the worker was stopped by " +
                                          std::string(interrupt::SignalName(interrupt::Signal())) +
                                          "; the next worker resumes it from its cursor");
    }
    if (throttle_) {
      if (auto why = throttle_()) {
        // Shown in the progress (written through the same compare-and-set), then wait.
        auto step = InBatch([&](Progress& next) {
          next.throttled_reason = why->reason;
          next.throttled_value = why->value;
          next.throttled_ms += throttled_ms_;
          return Status::Ok();
        });
        Rollback();
        if (step.ok() && *step == Step::kRequested) return Requested();
        if (step.ok() && *step == Step::kNotRunning) {
          return Stop(JobStatus::kQueued, "the job is no longer running", true);
        }
        if (step.ok() && *step == Step::kCommitted) throttled_ms_ = 0;
        auto waited = Clock::now();
        interrupt::SleepFor(Duration(500));
        throttled_ms_ += std::chrono::duration_cast<Duration>(Clock::now() - waited).count();
        continue;
      }
    }
    long long start = std::stoll(p_.cursor);
    long long size = sizer.size();
    long long end =
        (*p_.max - start >= size) ? start + size : (*p_.max == LLONG_MAX ? LLONG_MAX : *p_.max + 1);
    Clock::time_point began = Clock::now();
    auto step = InBatch([&](Progress& next) { return Batch(next, start, end); });
    if (step.ok()) {
      switch (*step) {
        case Step::kCommitted:
          failures = 0;
          pending_splits_ = 0;
          throttled_ms_ = 0;
          backoff =
              release::Backoff({settings_.backoff_initial, settings_.backoff_max}, settings_.seed);
          sizer.Observe(std::chrono::duration_cast<Duration>(Clock::now() - began));
          // The size the next batch uses, shown by `tandem jobs` (recorded with the next batch).
          p_.batch_size = sizer.size();
          continue;
        case Step::kMoved:
          Rollback();
          continue;
        case Step::kNotRunning:
          Rollback();
          return Stop(JobStatus::kQueued, "the job is no longer running", true);
        case Step::kRequested:
          Rollback();
          return Requested();
      }
    }
    Status error = step.status();
    Rollback();
    if (!c_.alive()) return Stop(JobStatus::kQueued, error.message(), /*lost=*/true);
    if (interrupt::Requested()) continue;  // given back above, the batch rolled back
    std::string range = "[" + std::to_string(start) + ", " + std::to_string(end) + ")";
    if (error.sqlstate() == "57014") {
      // Statement timeout: GitLab's split-and-retry, the same start with half the range.
      if (sizer.Split()) {
        ++pending_splits_;
        continue;
      }
      return Fail(error, "the batch " + range + " timed out even at " +
                             std::to_string(sizer.size()) + " keys");
    }
    ++failures;
    if (IsTransient(error) && failures < settings_.max_attempts) {
      interrupt::SleepFor(backoff.Next());
      continue;
    }
    return Fail(error, "the batch " + range + " failed" +
                           (failures > 1 ? " " + std::to_string(failures) + " times" : ""));
  }
}

}  // namespace

RunnerSettings SettingsFrom(const config::BackgroundSettings& background, int max_attempts) {
  RunnerSettings s;
  s.sizer.target = background.target_batch_duration;
  s.sizer.min_size = background.min_batch_size;
  s.sizer.max_size = background.max_batch_size;
  s.sizer.initial = std::clamp(1000LL, background.min_batch_size, background.max_batch_size);
  s.lock_timeout = background.lock_timeout;
  s.statement_timeout = background.statement_timeout;
  s.max_attempts = max_attempts;
  return s;
}

RunResult RunJob(pg::Connection& connection, const std::string& schema, const jobs::Job& job,
                 const RunnerSettings& settings, const ThrottleCheck& throttle) {
  Runner runner(connection, schema, job, settings, throttle);
  return runner.Run();
}

}  // namespace tandem::background
