// The progress document of a background job (`tandem.jobs.progress`, JSON): its cursor, bounds
// and figures. Each batch's transaction rewrites it together with the batch, so the cursor in
// the database is always the first key no committed batch has covered.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tandem::background {

// The batches of one stretch of time, for the dashboard's chart of rows per second and batch
// duration: a bounded history (kHistoryBuckets of kHistorySeconds each, the oldest dropped).
struct HistoryBucket {
  long long at_ms = 0;  // when its first batch ended (Unix time, milliseconds)
  long long rows = 0;
  long long batches = 0;
  long long busy_ms = 0;  // time inside its batches
};
inline constexpr long long kHistorySeconds = 10;
inline constexpr size_t kHistoryBuckets = 60;

struct Progress {
  std::string key_kind;  // "integer" ("" before the job's first start)
  // Integer keys: the bounds read when the job started (rows inserted later are the app's).
  std::optional<long long> min, max;
  std::string cursor;  // the next batch starts here (a key as text)
  bool done = false;   // every range covered
  long long batches = 0;
  long long rows_done = 0;        // rows the batches changed
  long long estimated_total = 0;  // reltuples at start, refined from the key range covered
  long long batch_size = 0;       // the size the next batch uses (keys of the range)
  double rate = 0;                // rows per second over the last batches (moving average)
  long long busy_ms = 0;          // time spent inside batches
  long long throttled_ms = 0;     // time spent waiting on throttling
  std::string throttled_reason;   // non-empty while throttled
  std::string throttled_value;
  long long last_batch_ms = 0;
  long long splits = 0;  // batches halved after a timeout
  std::vector<HistoryBucket> history;
};

// Adds a batch that ended at `now_ms` to the history (a new bucket every kHistorySeconds).
void RecordBatch(Progress& progress, long long now_ms, long long rows, long long busy_ms);

nlohmann::json ToJson(const Progress& progress);
std::string ToText(const Progress& progress);
// A document this code did not write (or "{}") gives an empty progress.
Progress ParseProgress(std::string_view text);

// Seconds until done at the current rate; nullopt when unknown.
std::optional<long long> EtaSeconds(const Progress& progress);
// "12,345 of ~50,000 rows (24%), 4,321 rows/s, ETA 9s, batch 5,000" (for `tandem jobs`).
std::string Summary(const Progress& progress);

}  // namespace tandem::background
