// Naming the sessions a migration waits for (see blockers.h).
#include "release/blockers.h"

#include <cctype>

namespace tandem::release {

std::string ShortenQuery(const std::string& query, size_t max_chars) {
  std::string out;
  bool space = false;
  for (char c : query) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  if (out.size() > max_chars) out = out.substr(0, max_chars > 3 ? max_chars - 3 : 0) + "...";
  return out;
}

Result<std::vector<Blocker>> FindBlockers(pg::Connection& observer, int pid) {
  TANDEM_ASSIGN_OR_RETURN(
      auto result,
      observer.Query(
          "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.state, ''), "
          "coalesce((extract(epoch FROM clock_timestamp() - a.xact_start) * 1000)::bigint, 0), "
          "coalesce(a.query, '') FROM pg_catalog.pg_stat_activity a "
          "WHERE a.pid = ANY (pg_catalog.pg_blocking_pids($1)) ORDER BY a.xact_start",
          {std::to_string(pid)}));
  std::vector<Blocker> blockers;
  for (size_t r = 0; r < result.rows(); ++r) {
    Blocker b;
    b.pid = static_cast<int>(result.GetInt(r, 0));
    b.application_name = result.Get(r, 1);
    b.state = result.Get(r, 2);
    b.transaction_age = Duration(result.GetInt(r, 3));
    b.query = ShortenQuery(result.Get(r, 4));
    blockers.push_back(std::move(b));
  }
  return blockers;
}

Result<std::optional<LockWait>> FindLockWait(pg::Connection& observer, int pid) {
  TANDEM_ASSIGN_OR_RETURN(
      auto result,
      observer.Query("SELECT l.locktype, coalesce(l.relation::pg_catalog.regclass::text, ''), "
                     "l.mode FROM pg_catalog.pg_locks l WHERE l.pid = $1 AND NOT l.granted "
                     "LIMIT 1",
                     {std::to_string(pid)}));
  if (result.rows() == 0) return std::optional<LockWait>();
  return std::optional<LockWait>(LockWait{result.Get(0, 0), result.Get(0, 1), result.Get(0, 2)});
}

std::string DescribeBlocker(const Blocker& b) {
  std::string out = "pid " + std::to_string(b.pid) + " (application_name \"" + b.application_name +
                    "\", " + (b.state.empty() ? "unknown state" : b.state);
  if (b.transaction_age > Duration(0))
    out += ", transaction open " + FormatDuration(b.transaction_age);
  out += ")";
  if (!b.query.empty()) out += ": " + b.query;
  return out;
}

std::string DescribeLockWait(const LockWait& w) {
  std::string out = w.mode + " on ";
  if (!w.object.empty()) return out + (w.locktype == "relation" ? "table " : "") + w.object;
  if (w.locktype == "virtualxid" || w.locktype == "transactionid")
    return "the end of older transactions (" + w.locktype + ")";
  return out + w.locktype;
}

Result<std::unique_ptr<BlockerWatch>> BlockerWatch::Start(const pg::DatabaseUrl& url,
                                                          int watched_pid, Duration interval) {
  pg::ConnectOptions options;
  options.application_name = "tandem release (blocker watch)";
  TANDEM_ASSIGN_OR_RETURN(auto connection, pg::Connection::Open(url, options));
  return std::unique_ptr<BlockerWatch>(
      new BlockerWatch(std::move(connection), watched_pid, interval));
}

BlockerWatch::BlockerWatch(std::unique_ptr<pg::Connection> connection, int watched_pid,
                           Duration interval)
    : connection_(std::move(connection)), watched_pid_(watched_pid), interval_(interval) {
  thread_ = std::thread([this] { Loop(); });
}

BlockerWatch::~BlockerWatch() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Observation BlockerWatch::Take() {
  std::lock_guard<std::mutex> lock(mutex_);
  Observation o;
  for (auto& [pid, blocker] : seen_) o.blockers.push_back(std::move(blocker));
  o.waited_for = std::move(waited_for_);
  seen_.clear();
  waited_for_.reset();
  return o;
}

void BlockerWatch::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    lock.unlock();
    // Queries run without the mutex so that Take() never waits on the network.
    auto blockers = FindBlockers(*connection_, watched_pid_);
    std::optional<LockWait> wait;
    if (blockers.ok() && !blockers->empty()) {
      auto w = FindLockWait(*connection_, watched_pid_);
      if (w.ok()) wait = *w;
    }
    lock.lock();
    if (blockers.ok()) {
      for (auto& b : *blockers) seen_[b.pid] = std::move(b);
      if (wait) waited_for_ = std::move(wait);
    }
    wake_.wait_for(lock, interval_, [this] { return stop_; });
  }
}

}  // namespace tandem::release
