// Who is in the way: the sessions a migration waits for (pg_blocking_pids), and the lock.
//
// The blockers must be observed while the migration waits: once its lock_timeout fires the
// statement is no longer waiting and pg_blocking_pids returns nothing. So a BlockerWatch polls
// from its own connection, on its own thread, while a migration runs, and the release loop
// takes what it saw after each attempt.
#pragma once

#include <atomic>
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

class BlockerWatch {
 public:
  // Opens its own connection to `url` and polls every `interval` for the sessions blocking
  // `watched_pid`. kUnavailable when it cannot connect (callers go on without names).
  static Result<std::unique_ptr<BlockerWatch>> Start(const pg::DatabaseUrl& url, int watched_pid,
                                                     Duration interval);
  ~BlockerWatch();
  BlockerWatch(const BlockerWatch&) = delete;
  BlockerWatch& operator=(const BlockerWatch&) = delete;

  // Returns and forgets what was seen so far.
  Observation Take();

 private:
  BlockerWatch(std::unique_ptr<pg::Connection> connection, int watched_pid, Duration interval);
  void Loop();

  std::unique_ptr<pg::Connection> connection_;
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
