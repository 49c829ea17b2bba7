#include "migrate/runner_lock.h"

#include "base/interrupt.h"

#include <chrono>
#include <random>
#include <thread>

namespace tandem::migrate {

LockKey RunnerLockKey(const std::string& schema) {
  // FNV-1a: stable across builds and platforms, unlike std::hash.
  uint32_t hash = 2166136261u;
  for (unsigned char c : schema) {
    hash ^= c;
    hash *= 16777619u;
  }
  return LockKey{0x746e646d /* "tndm" */, static_cast<int>(hash)};
}

Result<std::vector<LockHolder>> FindLockHolders(pg::Connection& connection, LockKey key) {
  TANDEM_ASSIGN_OR_RETURN(
      auto result,
      connection.Query(
          "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), "
          "'local socket'), to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), "
          "coalesce(a.state, '') FROM pg_catalog.pg_locks l "
          "JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
          "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int::oid "
          "AND l.objid = $2::int::oid AND l.objsubid = 2 "
          "AND l.database = (SELECT oid FROM pg_catalog.pg_database "
          "WHERE datname = current_database())",
          {std::to_string(key.class_id), std::to_string(key.object_id)}));
  std::vector<LockHolder> holders;
  for (size_t r = 0; r < result.rows(); ++r) {
    holders.push_back(LockHolder{static_cast<int>(result.GetInt(r, 0)), result.Get(r, 1),
                                 result.Get(r, 2), result.Get(r, 3), result.Get(r, 4)});
  }
  return holders;
}

Result<RunnerLock> RunnerLock::Acquire(pg::Connection& connection, const std::string& schema,
                                       Duration wait) {
  LockKey key = RunnerLockKey(schema);
  auto deadline = std::chrono::steady_clock::now() + wait;
  std::mt19937 random(std::random_device{}());
  Duration pause(25);
  while (true) {
    TANDEM_ASSIGN_OR_RETURN(
        auto result,
        connection.Query("SELECT pg_catalog.pg_try_advisory_lock($1, $2)",
                         {std::to_string(key.class_id), std::to_string(key.object_id)}));
    if (result.GetBool(0, 0)) return RunnerLock(&connection, key);
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    // Back off with jitter so that many waiting runners do not poll in step.
    std::uniform_int_distribution<int64_t> jitter(0, pause.count() / 2);
    auto sleep = pause + Duration(jitter(random));
    auto left = std::chrono::duration_cast<Duration>(deadline - now);
    if (!interrupt::SleepFor(std::min(sleep, left))) {
      return Status::Interrupted(std::string("interrupted by ") +
                                     interrupt::SignalName(interrupt::Signal()) +
                                     " while waiting for the runner lock",
                                 interrupt::Signal())
          .WithDetail("nothing was applied");
    }
    pause = std::min(Duration(pause.count() * 3 / 2), Duration(1000));
  }
  Status status = Status::Unavailable("could not take the runner lock within " +
                                      FormatDuration(wait) + ": another tandem is running");
  auto holders = FindLockHolders(connection, key);
  if (holders.ok() && !holders->empty()) {
    const LockHolder& h = holders->front();
    status.WithDetail("held by pid " + std::to_string(h.pid) + " (application_name \"" +
                      h.application_name + "\", client " + h.client_address + ", connected since " +
                      h.connected_since + ", " + h.state + ")");
  }
  status.WithHint("wait for it to finish, or raise --lock-wait");
  return status;
}

RunnerLock::RunnerLock(RunnerLock&& other) noexcept
    : connection_(other.connection_), key_(other.key_) {
  other.connection_ = nullptr;
}

RunnerLock::~RunnerLock() { Release(); }

Status RunnerLock::Release() {
  if (!connection_) return Status::Ok();
  pg::Connection* connection = connection_;
  connection_ = nullptr;
  if (!connection->alive()) return Status::Ok();  // the lock died with the session
  return connection->Exec("SELECT pg_catalog.pg_advisory_unlock($1, $2)",
                          {std::to_string(key_.class_id), std::to_string(key_.object_id)});
}

}  // namespace tandem::migrate
