#include "fleet/rollout.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "base/interrupt.h"

namespace tandem::fleet {
namespace {

using Clock = std::chrono::steady_clock;

Duration Since(Clock::time_point start) {
  return std::chrono::duration_cast<Duration>(Clock::now() - start);
}

class Run {
 public:
  Run(const std::vector<Target>& targets, const Operation& operation, const RolloutOptions& options)
      : targets_(targets), operation_(operation), options_(options), start_(Clock::now()) {
    report_.results.resize(targets.size());
    for (size_t i = 0; i < targets.size(); ++i) {
      report_.results[i].name = targets[i].name;
      report_.results[i].canary =
          !options.canary_group.empty() && targets[i].InGroup(options.canary_group);
    }
  }

  RolloutReport Go() {
    std::vector<size_t> canaries, rest;
    for (size_t i = 0; i < targets_.size(); ++i) {
      (report_.results[i].canary ? canaries : rest).push_back(i);
    }
    Stage(canaries);
    if (failures_ > 0) {
      report_.canary_failed = !canaries.empty();
    } else {
      Stage(rest);
    }
    for (const auto& r : report_.results) report_.stopped |= r.outcome == Outcome::kNotStarted;
    report_.duration = Since(start_);
    return std::move(report_);
  }

 private:
  // Runs the targets at `indexes` with at most `concurrency` at once; returns when all that
  // were started have finished.
  void Stage(const std::vector<size_t>& indexes) {
    if (indexes.empty()) return;
    next_ = 0;
    size_t threads = std::min<size_t>(std::max(1, options_.concurrency), indexes.size());
    std::vector<std::thread> pool;
    pool.reserve(threads);
    for (size_t t = 0; t < threads; ++t) {
      pool.emplace_back([this, &indexes] { Work(indexes); });
    }
    for (auto& thread : pool) thread.join();
  }

  bool MayStart() const {
    if (interrupt::Requested()) return false;
    return options_.max_failures <= 0 || failures_ < options_.max_failures;
  }

  void Work(const std::vector<size_t>& indexes) {
    for (;;) {
      size_t index;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (next_ >= indexes.size() || !MayStart()) return;
        index = indexes[next_++];
        report_.results[index].outcome = Outcome::kRunning;
        ++running_;
        report_.peak_running = std::max(report_.peak_running, running_);
        Notify();
      }
      auto started = Clock::now();
      Status status = operation_(targets_[index]);
      std::lock_guard<std::mutex> lock(mutex_);
      TargetResult& result = report_.results[index];
      result.duration = Since(started);
      if (status.ok()) {
        result.outcome = Outcome::kOk;
      } else {
        result.outcome = IsUnreachable(status) ? Outcome::kUnreachable : Outcome::kFailed;
        result.error = std::move(status);
        ++failures_;
      }
      --running_;
      Notify();
    }
  }

  // Under mutex_.
  void Notify() {
    if (!options_.on_progress) return;
    Progress p;
    for (const auto& r : report_.results) {
      switch (r.outcome) {
        case Outcome::kOk:
          ++p.done;
          break;
        case Outcome::kRunning:
          ++p.running;
          break;
        case Outcome::kFailed:
        case Outcome::kUnreachable:
          ++p.failed;
          break;
        case Outcome::kNotStarted:
          ++p.queued;
          break;
      }
    }
    p.elapsed = Since(start_);
    options_.on_progress(p);
  }

  const std::vector<Target>& targets_;
  const Operation& operation_;
  const RolloutOptions& options_;
  Clock::time_point start_;
  std::mutex mutex_;
  RolloutReport report_;
  size_t next_ = 0;
  int running_ = 0;
  int failures_ = 0;
};

}  // namespace

std::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kNotStarted:
      return "not-started";
    case Outcome::kRunning:
      return "running";
    case Outcome::kOk:
      return "ok";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kUnreachable:
      return "unreachable";
  }
  return "unknown";
}

int RolloutReport::Count(Outcome outcome) const {
  return static_cast<int>(std::count_if(
      results.begin(), results.end(), [&](const TargetResult& r) { return r.outcome == outcome; }));
}

RolloutReport Rollout(const std::vector<Target>& targets, const Operation& operation,
                      const RolloutOptions& options) {
  return Run(targets, operation, options).Go();
}

}  // namespace tandem::fleet
