// Who is in the way: the sessions a migration waits for (pg_blocking_pids), and the lock.
//
// The blockers must be observed while the migration waits: once its lock_timeout fires the
// statement is no longer waiting and pg_blocking_pids returns nothing. So a BlockerWatch polls
// from its own connection, on its own thread, while a migration runs, and the release loop
// takes what it saw after each attempt.
//
// Over a fleet, a watch per database would double the connections (one per database in
// flight plus one per watch). There the watch is lazy: it connects only once a migration's
// attempt has run for half its lock_timeout (a lock wait, or a slow statement) and only while it
// holds one of a few WatchSlots shared by the whole rollout; it disconnects and gives the slot
// back when the migration's attempt ends. Connections then stay within concurrency + slots.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/duration.h"
#include "base/status.h"
#include "pg/connection.h"

namespace tandem::release {

struct Blocker {
  int pid = 0;
  std::string application_name;
  std::string state;            // active, idle in transaction, ...
  Duration transaction_age{0};  // how long its transaction has been open
  std::string query;            // its current or last query, shortened
};

// The lock a session waits for, e.g. {"relation", "public.users", "AccessExclusiveLock"}.
struct LockWait {
  std::string locktype;
  std::string object;  // the relation, or "" for transactionid/virtualxid waits
  std::string mode;
};

// Whitespace runs collapsed to one space, cut at `max_chars` with "...".
std::string ShortenQuery(const std::string& query, size_t max_chars = 100);

// The sessions blocking `pid` right now (empty when it is not waiting).
Result<std::vector<Blocker>> FindBlockers(pg::Connection& observer, int pid);
// The lock `pid` waits for right now, if any.
Result<std::optional<LockWait>> FindLockWait(pg::Connection& observer, int pid);

// "pid 4242 (application_name \"psql\", idle in transaction, transaction open 19.8s): SELECT ..."
std::string DescribeBlocker(const Blocker& blocker);
std::string DescribeLockWait(const LockWait& wait);

// What a watch saw since it was last asked.
struct Observation {
  std::vector<Blocker> blockers;  // one per pid, the latest sample of each
  std::optional<LockWait> waited_for;
};

// A counting semaphore for the connections of lazy watches, shared by every database of one
// rollout. A watch that finds no free slot polls for one while its migration waits, and
// goes without names when none frees up in time.
class WatchSlots {
 public:
  explicit WatchSlots(int slots) : free_(slots) {}
  bool TryAcquire();
  void Release();
  int peak_in_use() const;  // most slots held at once, for tests and benchmarks

 private:
  mutable std::mutex mutex_;
  int free_;
  int in_use_ = 0;
  int peak_ = 0;
};

class BlockerWatch {
 public:
  // Without `slots`: opens its own connection to `url` now and polls every `interval` for the
  // sessions blocking `watched_pid`; kUnavailable when it cannot connect (callers go on
  // without names). With `slots`: never fails; connects lazily, as the header says.
  // `delay` (lazy only): how long an attempt runs before the watch wants a connection.
  static Result<std::unique_ptr<BlockerWatch>> Start(const pg::DatabaseUrl& url, int watched_pid,
                                                     Duration interval, WatchSlots* slots = nullptr,
                                                     Duration delay = Duration(0));
  ~BlockerWatch();
  BlockerWatch(const BlockerWatch&) = delete;
  BlockerWatch& operator=(const BlockerWatch&) = delete;

  // Returns and forgets what was seen so far.
  Observation Take();

  // Around each attempt of a migration: a lazy watch connects only while armed (an eager one
  // polls all along and ignores these).
  void Arm();
  void Disarm();

 private:
  BlockerWatch(std::unique_ptr<pg::Connection> connection, int watched_pid, Duration interval,
               const pg::DatabaseUrl* url, WatchSlots* slots, Duration delay);
  void Loop();
  // A lazy watch: waits until armed for an interval and a slot is free, then connects. False
  // when stopping. Called and returns with `lock` held.
  bool WaitToWatch(std::unique_lock<std::mutex>& lock);

  std::unique_ptr<pg::Connection> connection_;
  std::optional<pg::DatabaseUrl> url_;  // lazy only
  WatchSlots* slots_ = nullptr;         // lazy only
  Duration delay_{0};                   // lazy only
  bool armed_ = false;
  std::chrono::steady_clock::time_point armed_at_;
  int watched_pid_;
  Duration interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::map<int, Blocker> seen_;
  std::optional<LockWait> waited_for_;
  std::thread thread_;
};

}  // namespace tandem::release
