#include "background/throttle.h"

#include <chrono>
#include <cstdio>

namespace tandem::background {
namespace {

std::string Seconds(long long ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", static_cast<double>(ms) / 1000.0);
  return text;
}

std::string Bytes(long long bytes) {
  char text[32];
  if (bytes >= (1LL << 30)) {
    std::snprintf(text, sizeof text, "%.1f GB", static_cast<double>(bytes) / (1LL << 30));
  } else {
    std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / (1LL << 20));
  }
  return text;
}

}  // namespace

Result<std::unique_ptr<BlockWatch>> BlockWatch::Start(const pg::DatabaseUrl& url, int runner_pid) {
  pg::ConnectOptions options;
  options.application_name = "tandem block watch";
  TANDEM_ASSIGN_OR_RETURN(auto connection, pg::Connection::Open(url, options));
  return std::unique_ptr<BlockWatch>(new BlockWatch(std::move(connection), runner_pid));
}

BlockWatch::BlockWatch(std::unique_ptr<pg::Connection> connection, int runner_pid)
    : connection_(std::move(connection)), runner_pid_(runner_pid), thread_([this] { Loop(); }) {}

BlockWatch::~BlockWatch() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void BlockWatch::Loop() {
  const std::string pid = std::to_string(runner_pid_);
  while (!stop_) {
    // Blocked behind the runner: how long each has been in its current wait (state_change is
    // when its query started for an active session). The runner's own lock wait: since its
    // query started, while it waits on a lock.
    auto result = connection_->Query(
        "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - a.state_change) * 1000) "
        "FILTER (WHERE $1::int = ANY (pg_catalog.pg_blocking_pids(a.pid))), 0)::bigint, "
        "coalesce(max(extract(epoch FROM clock_timestamp() - a.query_start) * 1000) "
        "FILTER (WHERE a.pid = $1::int AND a.wait_event_type = 'Lock'), 0)::bigint "
        "FROM pg_catalog.pg_stat_activity a WHERE a.state = 'active'",
        {pid});
    if (!result.ok()) {
      if (!connection_->alive()) return;
    } else {
      long long blocked = result->GetInt(0, 0);
      long long own = result->GetInt(0, 1);
      long long seen = blocked_ms_.load();
      while (blocked > seen && !blocked_ms_.compare_exchange_weak(seen, blocked)) {
      }
      seen = own_wait_ms_.load();
      while (own > seen && !own_wait_ms_.compare_exchange_weak(seen, own)) {
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::optional<ThrottleReason> CheckThrottle(pg::Connection& connection,
                                            const config::BackgroundSettings& limits,
                                            BlockWatch* watch) {
  if (watch) {
    long long blocked = watch->TakeLongestBlockedMs();
    long long own = watch->TakeLongestOwnWaitMs();
    if (blocked > limits.max_lock_wait.count()) {
      return ThrottleReason{"app queries blocked behind the batch", Seconds(blocked)};
    }
    if (own > limits.max_lock_wait.count()) {
      return ThrottleReason{"the batch waited for a lock", Seconds(own)};
    }
  }
  auto lag = connection.Query(
      "SELECT coalesce(max(extract(epoch FROM replay_lag) * 1000), 0)::bigint, "
      "coalesce(max(pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), replay_lsn)), "
      "0)::bigint FROM pg_catalog.pg_stat_replication");
  if (lag.ok() && lag->rows() == 1) {
    if (lag->GetInt(0, 0) > limits.max_replication_lag.count()) {
      return ThrottleReason{"replication lag", Seconds(lag->GetInt(0, 0))};
    }
    if (lag->GetInt(0, 1) > limits.max_replication_lag_bytes) {
      return ThrottleReason{"replication lag", Bytes(lag->GetInt(0, 1)) + " behind"};
    }
  }
  if (!limits.throttle_query.empty()) {
    auto probe = connection.Query(limits.throttle_query);
    if (!probe.ok()) {
      return ThrottleReason{"throttle_query failed", probe.status().message()};
    }
    if (probe->rows() > 0 && probe->columns() > 0 && probe->Get(0, 0) == "t") {
      return ThrottleReason{"throttle_query", "true"};
    }
  }
  return std::nullopt;
}

}  // namespace tandem::background
