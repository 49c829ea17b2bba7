// The dashboard's in-memory view of every target, kept fresh without a database read per
// request: an overview of 500 targets is rendered from memory.
//
// Connections are bounded by design. The first `max_listen` targets each get one connection
// that LISTENs on tandem_jobs and re-reads its target when a transition NOTIFYs (and every
// refresh_interval, for poolers that drop NOTIFY and for migrations applied by `tandem up`,
// which send none; every second while a job runs, since progress is written without a NOTIFY).
// The remaining targets are read by a few polling threads, one short-lived connection at a time,
// every refresh_interval. So a fleet of 500 holds at most max_listen + poll_threads connections
// at once, whatever the number of browser tabs: the tabs read the EventHub, never the database.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "dashboard/event_hub.h"
#include "dashboard/snapshot.h"
#include "pg/connection.h"

namespace tandem::dashboard {

// A database the dashboard shows.
struct Source {
  std::string name;
  std::vector<std::string> groups;
  std::string url;       // a secret: only ever used to connect
  std::string redacted;  // pg::DatabaseUrl::Redacted: what pages may show
  Status problem;        // not ok when it cannot even be tried (url_env unset, bad URL)
};

struct StoreOptions {
  std::string schema = "tandem";
  std::string search_path = "public";
  int max_listen = 50;
  Duration refresh_interval{10'000};
  int poll_threads = 4;
};

class Store {
 public:
  Store(std::vector<Source> sources, StoreOptions options);
  ~Store();  // Stop()
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Starts the listening and polling threads; every target is read at once.
  void Start();
  // Ends every thread and closes every connection.
  void Stop();

  size_t size() const { return sources_.size(); }
  const Source& source(size_t index) const { return sources_[index]; }
  std::optional<size_t> Find(std::string_view name) const;
  // The latest snapshot (never null: "loading" before the first read).
  std::shared_ptr<const Snapshot> snapshot(size_t index) const;
  bool listened(size_t index) const { return static_cast<int>(index) < options_.max_listen; }
  const StoreOptions& options() const { return options_; }

  // Reads the target now, on a connection of its own, and publishes what changed: after an
  // action on a target no LISTEN connection watches.
  void Refresh(size_t index);
  // A short-lived connection for a detail page or an action (named "tandem dashboard").
  Result<std::unique_ptr<pg::Connection>> Connect(size_t index) const;

  EventHub& hub() { return hub_; }
  // Until every target has been read once, or the timeout passed (false then).
  bool WaitLoaded(Duration timeout);
  // How many LISTEN connections are open now.
  int listening() const { return listening_.load(); }

 private:
  struct Slot {
    mutable std::mutex mutex;  // guards snapshot
    std::shared_ptr<const Snapshot> snapshot;
    std::mutex apply;  // one read-and-publish at a time per target
  };

  void ListenLoop(size_t index);
  void PollLoop(size_t first, size_t step);
  // Reads with `connection`, swaps the snapshot and publishes the differences.
  void ReadAndApply(size_t index, pg::Connection* connection);
  void Apply(size_t index, std::shared_ptr<Snapshot> next);
  // Sleeps up to `timeout`; true when stopping.
  bool Sleep(Duration timeout);

  std::vector<Source> sources_;
  StoreOptions options_;
  std::vector<std::unique_ptr<Slot>> slots_;
  EventHub hub_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> listening_{0};
  std::mutex wait_mutex_;
  std::condition_variable wake_;
  size_t loaded_ = 0;  // guarded by wait_mutex_
  std::vector<std::thread> threads_;
  bool started_ = false;
};

}  // namespace tandem::dashboard
