#include "dashboard/store.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "jobs/job.h"
#include "pg/quote.h"

namespace tandem::dashboard {
namespace {

// A running job writes its progress (statements done, a background job's batches) without a
// NOTIFY (a batch every 200 ms would flood it): while one runs, its target is read this often.
constexpr Duration kRunningRefresh{1000};
// The LISTEN connection is waited on in slices this long, so that Stop() is prompt.
constexpr Duration kWaitSlice{250};

bool HasRunningJob(const Snapshot& snapshot) {
  for (const auto& job : snapshot.jobs) {
    if (job.status == jobs::JobStatus::kRunning) return true;
  }
  return false;
}

}  // namespace

Store::Store(std::vector<Source> sources, StoreOptions options)
    : sources_(std::move(sources)), options_(std::move(options)) {
  options_.max_listen = std::max(0, options_.max_listen);
  options_.poll_threads = std::max(1, options_.poll_threads);
  for (size_t i = 0; i < sources_.size(); ++i) {
    auto slot = std::make_unique<Slot>();
    slot->snapshot = std::make_shared<Snapshot>();
    slots_.push_back(std::move(slot));
  }
}

Store::~Store() { Stop(); }

std::optional<size_t> Store::Find(std::string_view name) const {
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i].name == name) return i;
  }
  return std::nullopt;
}

std::shared_ptr<const Snapshot> Store::snapshot(size_t index) const {
  std::lock_guard<std::mutex> lock(slots_[index]->mutex);
  return slots_[index]->snapshot;
}

void Store::Start() {
  if (started_) return;
  started_ = true;
  size_t listen = std::min(sources_.size(), static_cast<size_t>(options_.max_listen));
  for (size_t i = 0; i < listen; ++i) threads_.emplace_back([this, i] { ListenLoop(i); });
  size_t rest = sources_.size() - listen;
  size_t pollers = std::min(rest, static_cast<size_t>(options_.poll_threads));
  for (size_t k = 0; k < pollers; ++k) {
    threads_.emplace_back([this, listen, k, pollers] { PollLoop(listen + k, pollers); });
  }
}

void Store::Stop() {
  {
    std::lock_guard<std::mutex> lock(wait_mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

bool Store::Sleep(Duration timeout) {
  std::unique_lock<std::mutex> lock(wait_mutex_);
  wake_.wait_for(lock, timeout, [this] { return stopping_.load(); });
  return stopping_.load();
}

bool Store::WaitLoaded(Duration timeout) {
  std::unique_lock<std::mutex> lock(wait_mutex_);
  return wake_.wait_for(lock, timeout, [this] { return loaded_ >= sources_.size(); });
}

Result<std::unique_ptr<pg::Connection>> Store::Connect(size_t index) const {
  const Source& source = sources_[index];
  if (!source.problem.ok()) return source.problem;
  TANDEM_ASSIGN_OR_RETURN(auto url, pg::ParseDatabaseUrl(source.url));
  pg::ConnectOptions connect;
  connect.application_name = "tandem dashboard";
  connect.search_path = options_.search_path;
  connect.connect_timeout_seconds = 5;
  TANDEM_ASSIGN_OR_RETURN(auto connection, pg::Connection::Open(url, connect));
  // A page never waits long on a busy database.
  TANDEM_RETURN_IF_ERROR(connection->Exec("SET statement_timeout = '10s'"));
  return connection;
}

void Store::ListenLoop(size_t index) {
  std::unique_ptr<pg::Connection> connection;
  Duration backoff{1000};
  while (!stopping_.load()) {
    if (!connection) {
      auto opened = Connect(index);
      Status status =
          opened.ok()
              ? (*opened)->Exec("LISTEN " + pg::QuoteIdentifier(std::string(jobs::kNotifyChannel)))
              : opened.status();
      if (!status.ok()) {
        auto failed = std::make_shared<Snapshot>(*snapshot(index));
        failed->loaded = true;
        failed->error = status;
        failed->Summarize();
        Apply(index, failed);
        if (Sleep(backoff)) return;
        backoff = std::min(backoff * 2, options_.refresh_interval);
        continue;
      }
      connection = std::move(*opened);
      listening_.fetch_add(1);
      backoff = Duration(1000);
      ReadAndApply(index, connection.get());
    }
    Duration due = HasRunningJob(*snapshot(index)) ? kRunningRefresh : options_.refresh_interval;
    auto deadline = std::chrono::steady_clock::now() + due;
    bool notified = false;
    bool lost = false;
    while (!stopping_.load() && std::chrono::steady_clock::now() < deadline) {
      auto payloads = connection->WaitForNotifications(kWaitSlice);
      if (!payloads.ok()) {
        lost = true;
        break;
      }
      if (!payloads->empty()) {
        notified = true;
        break;
      }
    }
    if (stopping_.load()) break;
    if (lost) {
      connection.reset();
      listening_.fetch_sub(1);
      continue;
    }
    (void)notified;  // a NOTIFY or the refresh interval: either way, read again
    ReadAndApply(index, connection.get());
  }
  if (connection) listening_.fetch_sub(1);
}

void Store::PollLoop(size_t first, size_t step) {
  while (!stopping_.load()) {
    auto began = std::chrono::steady_clock::now();
    for (size_t i = first; i < sources_.size() && !stopping_.load(); i += step) Refresh(i);
    auto elapsed = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - began);
    if (Sleep(std::max(Duration(100), options_.refresh_interval - elapsed))) return;
  }
}

void Store::Refresh(size_t index) { ReadAndApply(index, nullptr); }

void Store::ReadAndApply(size_t index, pg::Connection* connection) {
  std::unique_ptr<pg::Connection> own;
  Result<Snapshot> read = Status::Unavailable("not read");
  if (connection == nullptr) {
    auto opened = Connect(index);
    if (opened.ok()) {
      own = std::move(*opened);
      connection = own.get();
    } else {
      read = opened.status();
    }
  }
  if (connection != nullptr) read = ReadSnapshot(*connection, options_.schema);
  std::shared_ptr<Snapshot> next;
  if (read.ok()) {
    next = std::make_shared<Snapshot>(std::move(*read));
  } else {
    // What was known stays shown, marked unreachable with the reason.
    next = std::make_shared<Snapshot>(*snapshot(index));
    next->loaded = true;
    next->error = read.status();
    next->Summarize();
  }
  Apply(index, next);
}

void Store::Apply(size_t index, std::shared_ptr<Snapshot> next) {
  Slot& slot = *slots_[index];
  std::lock_guard<std::mutex> apply(slot.apply);
  std::shared_ptr<const Snapshot> previous = snapshot(index);
  {
    std::lock_guard<std::mutex> lock(slot.mutex);
    slot.snapshot = next;
  }
  if (!previous->loaded) {
    std::lock_guard<std::mutex> lock(wait_mutex_);
    loaded_ += 1;
    wake_.notify_all();
  }
  const std::string& target = sources_[index].name;
  // Jobs whose state or progress moved.
  std::map<long long, const jobs::Job*> before;
  for (const auto& job : previous->jobs) before[job.id] = &job;
  for (const auto& job : next->jobs) {
    auto it = before.find(job.id);
    if (it != before.end()) {
      const jobs::Job& old = *it->second;
      if (old.status == job.status && old.requested == job.requested &&
          old.progress == job.progress && old.statements_done == job.statements_done &&
          old.attempts == job.attempts && old.approved == job.approved) {
        continue;
      }
    }
    hub_.Publish(JobJson(target, job));
  }
  std::map<std::string, const migrate::HistoryRow*> rows;
  for (const auto& row : previous->migrations) rows[row.version] = &row;
  for (const auto& row : next->migrations) {
    auto it = rows.find(row.version);
    if (it != rows.end() && it->second->status == row.status &&
        it->second->attempts == row.attempts &&
        it->second->statements_done == row.statements_done) {
      continue;
    }
    nlohmann::json event = MigrationJson(row);
    event["type"] = "migration";
    event["target"] = target;
    hub_.Publish(event);
  }
  nlohmann::json old_summary = SummaryJson(target, *previous);
  nlohmann::json new_summary = SummaryJson(target, *next);
  old_summary.erase("read_at");
  nlohmann::json compare = new_summary;
  compare.erase("read_at");
  if (old_summary != compare) hub_.Publish(new_summary);
}

}  // namespace tandem::dashboard
