#include "jobs/schedule.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace tandem::jobs {
namespace {

migrate::Layout LayoutOf(const Job& job) {
  return migrate::ParseLayout(job.layout).value_or(migrate::Layout::kTandem);
}

// The oldest pre-deploy migration not yet applied that is older than `job`.
const migrate::HistoryRow* PreDeployBefore(const Job& job,
                                           const std::vector<migrate::HistoryRow>& history) {
  const migrate::HistoryRow* before = nullptr;
  for (const migrate::HistoryRow& row : history) {
    if (row.phase != "pre-deploy" || row.status == "succeeded") continue;
    if (migrate::CompareVersions(row.version, job.version, LayoutOf(job)) >= 0) continue;
    if (!before || migrate::CompareVersions(row.version, before->version, LayoutOf(job)) < 0) {
      before = &row;
    }
  }
  return before;
}

// Background jobs do not wait for post-deploy jobs: each runs once the pre-deploy migrations
// before it have succeeded, and once no older background job on its table is still open and
// runnable (two at once on one table would fight over its rows' locks).
void ScheduleBackground(const std::vector<Job>& jobs,
                        const std::vector<migrate::HistoryRow>& history, const std::string& now,
                        Schedule& schedule) {
  std::vector<const Job*> open;
  for (const Job& job : jobs) {
    if (job.kind == "background" && !IsDone(job.status)) open.push_back(&job);
  }
  std::sort(open.begin(), open.end(), [](const Job* a, const Job* b) {
    int c = migrate::CompareVersions(a->version, b->version, LayoutOf(*a));
    return c != 0 ? c < 0 : a->id < b->id;
  });
  std::map<std::string, long long> tables;  // table -> the job that runs on it
  for (const Job* job : open) {
    if (const migrate::HistoryRow* before = PreDeployBefore(*job, history)) {
      if (before->status == "failed") schedule.needs_person = true;
      schedule.waiting.push_back(
          {job->id, "waiting for pre-deploy " + before->version + " (" + before->status + ")"});
      continue;
    }
    bool runnable = false;
    switch (job->status) {
      case JobStatus::kQueued:
      case JobStatus::kRunning:
        runnable = true;
        break;
      case JobStatus::kRetrying:
        if (job->run_after.empty() || job->run_after <= now) {
          runnable = true;
        } else {
          if (!schedule.next_due_at || job->run_after < *schedule.next_due_at) {
            schedule.next_due_at = job->run_after;
          }
          schedule.waiting.push_back({job->id, "next attempt at " + job->run_after});
        }
        break;
      default:
        schedule.needs_person = true;
        schedule.waiting.push_back(
            {job->id, "waiting for a person (" + std::string(StatusName(job->status)) + ")"});
        break;
    }
    if (!runnable) continue;
    std::string table = BackgroundTable(*job);
    if (auto taken = tables.find(table); !table.empty() && taken != tables.end()) {
      schedule.waiting.push_back(
          {job->id, "waiting for job " + std::to_string(taken->second) + " on table " + table});
      continue;
    }
    tables[table] = job->id;
    schedule.background.push_back(job->id);
  }
}

}  // namespace

std::string BackgroundTable(const Job& job) {
  auto batch = nlohmann::json::parse(job.batch, nullptr, false);
  if (!batch.is_object() || !batch.contains("table") || !batch["table"].is_string()) return "";
  return batch["table"].get<std::string>();
}

Schedule ComputeSchedule(const std::vector<Job>& jobs,
                         const std::vector<migrate::HistoryRow>& history, const std::string& now) {
  Schedule schedule;
  std::vector<const Job*> open;
  for (const Job& job : jobs) {
    // A contract job takes its place among the post-deploy jobs: it drops what the old app
    // used, as a post-deploy migration of its version would.
    if ((job.kind != "post-deploy" && job.kind != "contract") || IsDone(job.status)) continue;
    open.push_back(&job);
    if (job.status == JobStatus::kFailed || job.status == JobStatus::kPaused ||
        job.status == JobStatus::kAwaitingApproval) {
      schedule.needs_person = true;
    }
  }
  std::sort(open.begin(), open.end(), [](const Job* a, const Job* b) {
    int c = migrate::CompareVersions(a->version, b->version, LayoutOf(*a));
    return c != 0 ? c < 0 : a->id < b->id;
  });
  const Job* first = nullptr;  // the one every later job waits behind
  auto runnable_together = [&](const Job* job) {
    if (job->kind != "post-deploy" || job->status != JobStatus::kQueued || !job->approved ||
        !job->requested.empty() || !job->transactional) {
      return false;
    }
    for (const migrate::HistoryRow& row : history) {
      if (row.phase == "pre-deploy" && row.status != "succeeded" &&
          migrate::CompareVersions(row.version, job->version, LayoutOf(*job)) < 0) {
        return false;
      }
    }
    return true;
  };
  bool run_open = false;  // the run is still growing
  for (const Job* job : open) {
    if (run_open && schedule.run.size() < kMaxRun && runnable_together(job)) {
      schedule.run.push_back(job->id);
    } else {
      run_open = false;
    }
    if (first) {
      schedule.waiting.push_back({job->id, "blocked by " + first->version + " (" +
                                               std::string(StatusName(first->status)) + ")"});
      continue;
    }
    first = job;
    if (const migrate::HistoryRow* before = PreDeployBefore(*job, history)) {
      // A release that failed there waits for a person; one still running does not.
      if (before->status == "failed") schedule.needs_person = true;
      schedule.waiting.push_back(
          {job->id, "waiting for pre-deploy " + before->version + " (" + before->status + ")"});
      continue;
    }
    switch (job->status) {
      case JobStatus::kQueued:
      case JobStatus::kRunning:  // a worker died running it: it is taken over
        schedule.next = job->id;
        if (runnable_together(job)) {
          schedule.run.push_back(job->id);
          run_open = true;
        }
        break;
      case JobStatus::kRetrying:
        if (job->run_after.empty() || job->run_after <= now) {
          schedule.next = job->id;
        } else {
          schedule.next_due_at = job->run_after;
          schedule.waiting.push_back({job->id, "next attempt at " + job->run_after});
        }
        break;
      default:
        schedule.waiting.push_back(
            {job->id, "waiting for a person (" + std::string(StatusName(job->status)) + ")"});
        break;
    }
  }
  if (schedule.run.size() < 2) schedule.run.clear();
  ScheduleBackground(jobs, history, now, schedule);
  return schedule;
}

}  // namespace tandem::jobs
