// The worker's Prometheus metrics, read from the database at scrape time: every replica of a
// worker (and `tandem dashboard`) reports the same truth, and nothing is lost when a process
// restarts, because the counters are counts of rows of the append-only tandem.events.
//
// Families (label `target` on each; see docs/worker-metrics.md):
//   tandem_jobs{state}                   gauge: jobs by state, all eight states present
//   tandem_jobs_applied_total            counter: job.succeeded events
//   tandem_jobs_failed_total             counter: job.failed events
//   tandem_job_retries_total             counter: job.retrying events
//   tandem_lock_timeouts_total           counter: lock timeouts recorded on job.* events
//   tandem_job_duration_seconds          histogram: attempts that ended succeeded or failed
//   tandem_oldest_queued_job_age_seconds gauge: the longest wait among jobs not yet run
//   tandem_background_rows_done{job,version}         gauge, per unfinished background job
//   tandem_background_rows_estimated{job,version}    gauge: its estimated total
//   tandem_background_rows_per_second{job,version}   gauge: its current rate
//   tandem_background_throttled_seconds{job,version} gauge: time it spent throttled
//   tandem_background_throttled{job,version}         gauge: 1 while it is throttled
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "pg/connection.h"

namespace tandem::jobs {

// The Content-Type of RenderMetrics' text (Prometheus text exposition format 0.0.4).
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// Upper bounds of the duration histogram's buckets, in milliseconds (+Inf is implicit).
inline constexpr std::array<long long, 9> kDurationBucketsMs = {
    100, 500, 1000, 5000, 15000, 60000, 300000, 900000, 3600000};

// The eight job states, in the order the metrics list them (the jobs table's CHECK constraint).
inline constexpr std::array<std::string_view, 8> kJobStates = {
    "queued", "awaiting-approval", "running", "retrying",
    "paused", "succeeded",         "failed",  "cancelled"};

struct JobMetrics {
  std::array<long long, 8> jobs_by_state{};  // indexed like kJobStates
  long long applied = 0;
  long long failed = 0;
  long long retries = 0;
  long long lock_timeouts = 0;
  // Cumulative: duration_buckets[i] counts durations <= kDurationBucketsMs[i].
  std::array<long long, 9> duration_buckets{};
  long long duration_count = 0;  // also the +Inf bucket
  double duration_sum_seconds = 0;
  double oldest_queued_age_seconds = 0;  // 0 when no job waits
  // Background jobs not yet done (queued, running, retrying, paused, failed...): their progress
  // as the last committed batch recorded it.
  struct Background {
    long long job = 0;
    std::string version;
    double rows_done = 0;
    double rows_estimated = 0;
    double rows_per_second = 0;
    double throttled_seconds = 0;
    bool throttled = false;
  };
  std::vector<Background> background;
};

// Reads the metrics of one database in two round trips (whether the jobs table exists, then
// one query). A database without the state schema or without the jobs table (a state version
// before jobs) gives all zeros, not an error: a worker may be scraped before the first release.
// Errors are the connection's (kUnavailable when it has been lost).
Result<JobMetrics> ReadJobMetrics(pg::Connection& connection, const std::string& schema);

struct TargetMetrics {
  std::string target;
  JobMetrics metrics;
};

// The exposition text: each family once (HELP, TYPE), then its series for every target in
// order. Label values are escaped as the format requires (backslash, double quote, newline).
std::string RenderMetricsText(const std::vector<TargetMetrics>& targets);

// ReadJobMetrics then RenderMetricsText for one target.
Result<std::string> RenderMetrics(pg::Connection& connection, const std::string& schema,
                                  const std::string& target);

// A label value as the text format writes it between double quotes.
std::string EscapeLabelValue(std::string_view value);

}  // namespace tandem::jobs
