// One runner at a time per database and state schema.
//
// A session-level advisory lock taken by polling pg_try_advisory_lock, never the blocking
// pg_advisory_lock: a runner blocked inside pg_advisory_lock holds a virtual transaction that
// another runner's CREATE INDEX CONCURRENTLY waits for, and the two deadlock (golang-migrate
// #960, flyway #1654). Polling sessions are idle between tries, so CIC never waits on them.
#pragma once

#include <string>

#include "base/duration.h"
#include "base/status.h"
#include "pg/connection.h"

namespace tandem::migrate {

// The two int4 keys of the lock: a constant for tandem and a hash of the schema name.
struct LockKey {
  int class_id;
  int object_id;
};
LockKey RunnerLockKey(const std::string& schema);

// Who holds the lock, for the "could not lock" message.
struct LockHolder {
  int pid = 0;
  std::string application_name;
  std::string client_address;
  std::string connected_since;
  std::string state;
};

class RunnerLock {
 public:
  // Polls until the lock is taken or `wait` runs out; then kUnavailable (exit 3) naming the
  // holder. The lock lives as long as `connection`'s session.
  static Result<RunnerLock> Acquire(pg::Connection& connection, const std::string& schema,
                                    Duration wait);
  RunnerLock(RunnerLock&& other) noexcept;
  RunnerLock& operator=(RunnerLock&&) = delete;
  ~RunnerLock();
  Status Release();

 private:
  RunnerLock(pg::Connection* connection, LockKey key) : connection_(connection), key_(key) {}
  pg::Connection* connection_;
  LockKey key_;
};

Result<std::vector<LockHolder>> FindLockHolders(pg::Connection& connection, LockKey key);

}  // namespace tandem::migrate
