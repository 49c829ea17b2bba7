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
         const RunnerSettings& settings, const ThrottleCheck& throttle,
         const std::function<void(const Progress&)>& on_batch)
      : c_(connection),
        schema_(schema),
        job_(job),
        settings_(settings),
        throttle_(throttle),
        on_batch_(on_batch) {}

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
  Status KeysetBatch(Progress& next, long long size);
  void Account(Progress& next, long long rows, std::chrono::microseconds took);
  // After a batch that did not commit: nullopt to go on (retry, split, re-read), or the end.
  std::optional<RunResult> AfterBatch(const Result<Step>& step, const std::string& range,
                                      Sizer& sizer, int& failures, release::Backoff& backoff);

  pg::Connection& c_;
  const std::string& schema_;
  const jobs::Job& job_;
  const RunnerSettings& settings_;
  const ThrottleCheck& throttle_;
  const std::function<void(const Progress&)>& on_batch_;
  std::string table_;  // quoted, qualified
  std::string key_;    // quoted
  std::string key_type_;
  std::string kind_;      // "integer", "keyset" or "ctid"
  std::string greatest_;  // keyset: the type's greatest value, the last batch's end
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
  key_ = pg::QuoteIdentifier(key);
  if (key_type_ == "bigint" || key_type_ == "integer" || key_type_ == "smallint") {
    kind_ = "integer";
    return Status::Ok();
  }
  // Other keys by keyset boundaries. The last batch's :batch_end must lie above every key, so
  // the key's type needs a greatest value (NaN sorts above every number in PostgreSQL).
  static const std::vector<std::pair<std::string, std::string>> kGreatest = {
      {"uuid", "ffffffff-ffff-ffff-ffff-ffffffffffff"},
      {"numeric", "NaN"},
      {"double precision", "NaN"},
      {"real", "NaN"},
      {"timestamp without time zone", "infinity"},
      {"timestamp with time zone", "infinity"},
      {"date", "infinity"}};
  for (const auto& [type, greatest] : kGreatest) {
    if (type == key_type_) greatest_ = greatest;
  }
  if (greatest_.empty()) {
    return Status::InvalidInput("key " + key + " of type " + key_type_ + " is not supported yet")
        .WithDetail(
            "integer, uuid, numeric, floating-point, timestamp and date keys are batched; "
            "text and composite keys are not yet")
        .WithHint("use key=ctid (block ranges) with an idempotent statement");
  }
  kind_ = "keyset";
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
  q.key_kind = kind_;
  if (kind_ == "keyset") {
    TANDEM_ASSIGN_OR_RETURN(
        auto first, c_.Query("SELECT (SELECT " + key_ + "::text FROM " + table_ + " ORDER BY " +
                                 key_ + " LIMIT 1), (SELECT " + key_ + " FROM " + table_ +
                                 " ORDER BY " + key_ + " DESC LIMIT 1) = $1",
                             {greatest_}));
    q.estimated_total = reltuples_;
    q.batch_size = Sizer(settings_.sizer, fixed_size_, 0).size();
    if (first.IsNull(0, 0)) {
      q.done = true;
    } else if (first.GetBool(0, 1)) {
      return Status::InvalidInput("the key's greatest value (" + greatest_ +
                                  ") is in use, so no batch end lies above it")
          .WithHint("use key=ctid (block ranges) with an idempotent statement");
    } else {
      q.cursor = first.Get(0, 0);
    }
    TANDEM_RETURN_IF_ERROR(jobs::RecordProgress(c_, schema_, job_.id, ToText(q)));
    TANDEM_RETURN_IF_ERROR(c_.Exec("COMMIT"));
    p_ = q;
    return Step::kCommitted;
  }
  TANDEM_ASSIGN_OR_RETURN(auto bounds, c_.Query(bounds_sql, params));
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
  if (on_batch_) on_batch_(p_);
  return Step::kCommitted;
}

Status Runner::KeysetBatch(Progress& next, long long size) {
  // The first key of the next batch, found inside this batch's transaction.
  TANDEM_ASSIGN_OR_RETURN(auto boundary,
                          c_.Query("SELECT " + key_ + "::text FROM " + table_ + " WHERE " + key_ +
                                       " >= $1 ORDER BY " + key_ + " OFFSET $2 LIMIT 1",
                                   {next.cursor, std::to_string(size)}));
  bool last = boundary.rows() == 0;
  std::string end = last ? greatest_ : boundary.Get(0, 0);
  auto began = Clock::now();
  TANDEM_ASSIGN_OR_RETURN(auto result, c_.Query(statement_, {next.cursor, end}));
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began);
  Account(next, AffectedRows(result.command_tag()), took);
  next.cursor = last ? "" : end;
  next.done = last;
  if (last) next.estimated_total = next.rows_done;
  return Status::Ok();
}

void Runner::Account(Progress& next, long long rows, std::chrono::microseconds took) {
  next.batches += 1;
  next.rows_done += rows;
  next.last_batch_ms = took.count() / 1000;
  next.busy_ms += took.count() / 1000;
  next.splits += pending_splits_;
  next.throttled_ms += throttled_ms_;
  next.throttled_reason.clear();
  next.throttled_value.clear();
  double seconds = std::max<double>(static_cast<double>(took.count()), 1.0) / 1e6;
  double rate = static_cast<double>(rows) / seconds;
  next.rate = next.rate <= 0 ? rate : 0.7 * next.rate + 0.3 * rate;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  RecordBatch(next, now.count(), rows, took.count() / 1000);
}

Status Runner::Batch(Progress& next, long long start, long long end) {
  auto began = Clock::now();
  auto bound = [&](long long key) {
    return kind_ == "ctid" ? "(" + std::to_string(key) + ",0)" : std::to_string(key);
  };
  TANDEM_ASSIGN_OR_RETURN(auto result, c_.Query(statement_, {bound(start), bound(end)}));
  auto took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began);
  long long rows = AffectedRows(result.command_tag());
  Account(next, rows, took);
  next.cursor = std::to_string(end);
  next.done = end > *next.max;
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
    if (!jobs::IsTransient(started.status()) || attempt >= settings_.max_attempts) {
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
    long long size = sizer.size();
    Clock::time_point began = Clock::now();
    std::string range;  // the batch's keys, for the error of a batch that fails
    Result<Step> step = Step::kCommitted;
    if (kind_ == "keyset") {
      range = "from " + p_.cursor;
      step = InBatch([&](Progress& next) { return KeysetBatch(next, size); });
    } else {
      long long start = std::stoll(p_.cursor);
      long long end = (*p_.max - start >= size) ? start + size
                                                : (*p_.max == LLONG_MAX ? LLONG_MAX : *p_.max + 1);
      range = "[" + std::to_string(start) + ", " + std::to_string(end) + ")";
      step = InBatch([&](Progress& next) { return Batch(next, start, end); });
    }
    if (step.ok() && *step == Step::kCommitted) {
      failures = 0;
      pending_splits_ = 0;
      throttled_ms_ = 0;
      backoff =
          release::Backoff({settings_.backoff_initial, settings_.backoff_max}, settings_.seed);
      sizer.Observe(std::chrono::duration_cast<Duration>(Clock::now() - began));
      // The size the next batch uses, shown by `tandem jobs` (recorded with the next batch).
      p_.batch_size = sizer.size();
      continue;
    }
    if (auto stop = AfterBatch(step, range, sizer, failures, backoff)) return *stop;
  }
}

std::optional<RunResult> Runner::AfterBatch(const Result<Step>& step, const std::string& range,
                                            Sizer& sizer, int& failures,
                                            release::Backoff& backoff) {
  Rollback();
  if (step.ok()) {
    if (*step == Step::kNotRunning) {
      return Stop(JobStatus::kQueued, "the job is no longer running", true);
    }
    if (*step == Step::kRequested) return Requested();
    return std::nullopt;  // moved: go on from the committed cursor
  }
  const Status& error = step.status();
  if (!c_.alive()) return Stop(JobStatus::kQueued, error.message(), /*lost=*/true);
  if (interrupt::Requested()) return std::nullopt;  // given back at the top of the loop
  if (error.sqlstate() == "57014") {
    // Statement timeout: GitLab's split-and-retry, the same start with half the range.
    if (sizer.Split()) {
      ++pending_splits_;
      return std::nullopt;
    }
    return Fail(error, "the batch " + range + " timed out even at " + std::to_string(sizer.size()) +
                           " keys");
  }
  ++failures;
  if (jobs::IsTransient(error) && failures < settings_.max_attempts) {
    interrupt::SleepFor(backoff.Next());
    return std::nullopt;
  }
  return Fail(error, "the batch " + range + " failed" +
                         (failures > 1 ? " " + std::to_string(failures) + " times" : ""));
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
                 const RunnerSettings& settings, const ThrottleCheck& throttle,
                 const std::function<void(const Progress&)>& on_batch) {
  Runner runner(connection, schema, job, settings, throttle, on_batch);
  return runner.Run();
}

}  // namespace tandem::background
