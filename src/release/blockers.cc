// Naming the sessions a migration waits for (see blockers.h).
#include "release/blockers.h"

#include <algorithm>
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

bool WatchSlots::TryAcquire() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_ <= 0) return false;
  --free_;
  peak_ = std::max(peak_, ++in_use_);
  return true;
}

void WatchSlots::Release() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++free_;
  --in_use_;
}

int WatchSlots::peak_in_use() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_;
}

namespace {

pg::ConnectOptions WatchConnectOptions() {
  pg::ConnectOptions options;
  options.application_name = "tandem release (blocker watch)";
  return options;
}

}  // namespace

Result<std::unique_ptr<BlockerWatch>> BlockerWatch::Start(const pg::DatabaseUrl& url,
                                                          int watched_pid, Duration interval,
                                                          WatchSlots* slots, Duration delay) {
  if (slots) {
    return std::unique_ptr<BlockerWatch>(
        new BlockerWatch(nullptr, watched_pid, interval, &url, slots, delay));
  }
  TANDEM_ASSIGN_OR_RETURN(auto connection, pg::Connection::Open(url, WatchConnectOptions()));
  return std::unique_ptr<BlockerWatch>(
      new BlockerWatch(std::move(connection), watched_pid, interval, nullptr, nullptr, delay));
}

BlockerWatch::BlockerWatch(std::unique_ptr<pg::Connection> connection, int watched_pid,
                           Duration interval, const pg::DatabaseUrl* url, WatchSlots* slots,
                           Duration delay)
    : connection_(std::move(connection)),
      slots_(slots),
      delay_(delay),
      watched_pid_(watched_pid),
      interval_(interval) {
  if (url) url_ = *url;
  thread_ = std::thread([this] { Loop(); });
}

BlockerWatch::~BlockerWatch() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (slots_ && connection_) {
    connection_.reset();
    slots_->Release();
  }
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

void BlockerWatch::Arm() {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = true;
  armed_at_ = std::chrono::steady_clock::now();
  wake_.notify_all();
}

void BlockerWatch::Disarm() {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = false;
  wake_.notify_all();
}

bool BlockerWatch::WaitToWatch(std::unique_lock<std::mutex>& lock) {
  while (!stop_) {
    if (armed_ && std::chrono::steady_clock::now() - armed_at_ >= delay_) {
      if (connection_) return true;
      if (slots_->TryAcquire()) {
        lock.unlock();
        auto connected = pg::Connection::Open(*url_, WatchConnectOptions());
        lock.lock();
        if (connected.ok()) {
          connection_ = std::move(*connected);
          return true;
        }
        slots_->Release();  // unreachable now: try again at the next interval
      }
    } else if (connection_ && !armed_) {
      // The attempt is over: the slot goes to another database's migration.
      auto closing = std::move(connection_);
      lock.unlock();
      closing.reset();
      slots_->Release();
      lock.lock();
      continue;
    }
    wake_.wait_for(lock, interval_);
  }
  return false;
}

void BlockerWatch::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    if (slots_ && !WaitToWatch(lock)) break;
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
