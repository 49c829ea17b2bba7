#include "fleet/fleet_worker.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "base/interrupt.h"
#include "notify/notifier.h"
#include "pg/connection.h"
#include "pg/quote.h"
#include "pg/url.h"
#include "release/blockers.h"

namespace tandem::fleet {
namespace {

using Clock = std::chrono::steady_clock;

// What a probe finds on one database, on a session of its own that is closed at once.
struct Probe {
  bool owned_elsewhere = false;  // another session holds its worker lock
  long long open = 0;            // jobs queued, running or retrying
  // Changes whenever something happens to the jobs (every transition writes an event) or a
  // retrying job becomes due: equal fingerprints mean a run would find what the last one did.
  std::string fingerprint;
  // The newest event id; unset when the probe did not read it (the lock was held elsewhere).
  std::optional<long long> newest_event;
};

Result<Probe> ProbeTarget(const pg::DatabaseUrl& url, const std::string& schema,
                          int connect_timeout_seconds) {
  pg::ConnectOptions connect;
  connect.application_name = "tandem worker probe";
  connect.connect_timeout_seconds = connect_timeout_seconds;
  auto opened = pg::Connection::Open(url, connect);
  if (!opened.ok()) {
    Status status = opened.status();
    return std::move(status).WithSqlState(kUnreachableSqlState);
  }
  pg::Connection& c = **opened;
  Probe probe;
  worker::WorkerLockKey key = worker::LockKeyFor(schema);
  // pg_locks shows a two-key advisory lock as classid = first key, objid = second key (both as
  // oid: int4 casts to oid bit for bit), objsubid = 2.
  TANDEM_ASSIGN_OR_RETURN(
      auto held,
      c.Query("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND "
              "granted AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = "
              "pg_catalog.current_database()) AND classid = $1::int::oid AND objid = "
              "$2::int::oid AND objsubid = 2), pg_catalog.to_regclass($3) IS NOT NULL",
              {std::to_string(key.class_id), std::to_string(key.object_id),
               pg::QuoteIdentifier(schema) + ".jobs"}));
  probe.owned_elsewhere = held.GetBool(0, 0);
  if (probe.owned_elsewhere) return probe;
  if (!held.GetBool(0, 1)) {  // no state schema: no jobs, and every event will be new
    probe.newest_event = 0;
    return probe;
  }
  std::string s = pg::QuoteIdentifier(schema);
  TANDEM_ASSIGN_OR_RETURN(
      auto jobs, c.Query("SELECT count(*) FILTER (WHERE status IN ('queued', 'running', "
                         "'retrying')), count(*) FILTER (WHERE status = 'retrying' AND "
                         "(run_after IS NULL OR run_after <= now())), (SELECT coalesce(max(id), 0) "
                         "FROM " +
                         s + ".events) FROM " + s + ".jobs"));
  probe.open = jobs.GetInt(0, 0);
  probe.fingerprint = jobs.Get(0, 0) + "/" + jobs.Get(0, 1) + "/" + jobs.Get(0, 2);
  probe.newest_event = jobs.GetInt(0, 2);
  return probe;
}

worker::Log& Discard() {
  static worker::Log* log = new worker::Log(*new std::ostringstream, false);
  return *log;
}

// One database's worker, run once on the lock's terms: what is runnable now, then the lock is
// given back. `transitions` counts what it changed. `base` carries the replica's shared session
// slots (WorkerOptions::extra_sessions, work_sessions).
// With [[notify]] channels, a notifier of the run's own then sends what it changed, once the
// job session has closed (so that a slot holds one session at a time): channels seen for the
// first time start after `events_before`, the newest event when this replica first reached the
// database.
worker::WorkerSummary ServeOnce(const pg::DatabaseUrl& url, const std::string& target,
                                const FleetWorkerOptions& fleet, const worker::WorkerOptions& base,
                                worker::Log& log, std::optional<long long> events_before,
                                int& transitions, worker::WorkerState* live) {
  worker::WorkerOptions options = base;
  options.once = true;
  options.log = &log;
  options.on_transition = [&transitions, &base] {
    ++transitions;
    if (base.on_transition) base.on_transition();
  };
  worker::WorkerSummary summary = worker::RunWorker(url, options, live);
  if (fleet.notify.empty() || interrupt::Requested()) return summary;
  notify::NotifierOptions n;
  n.url = url;
  n.schema = base.schema;
  n.channels = fleet.notify;
  n.target = target;
  n.new_channels_after = events_before;
  n.log = [&log](std::string_view level, std::string_view message, const nlohmann::json& fields) {
    log.Write(level, message, fields);
  };
  auto notifier = notify::Notifier::Start(std::move(n));
  if (!notifier.ok()) {
    log.Error("notifications not sent", {{"error", notifier.status().message()}});
    return summary;
  }
  // Also what an earlier run could not send in time.
  if (!(*notifier)->Flush(fleet.notify_flush) && transitions > 0 && !interrupt::Requested()) {
    log.Warning("some notifications were not sent yet; the next run on this database sends them");
  }
  (*notifier)->Stop();
  return summary;
}

// One of a replica's `concurrency` + 2 work sessions, held while a slot probes or serves a database
// (released when it goes out of scope). Waits for a free one, polling, until interrupted.
class WorkToken {
 public:
  explicit WorkToken(release::WatchSlots& slots) : slots_(slots) {
    while (!(held_ = slots_.TryAcquire()) && !interrupt::Requested()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~WorkToken() {
    if (held_) slots_.Release();
  }
  bool held() const { return held_; }

 private:
  release::WatchSlots& slots_;
  bool held_ = false;
};

class FleetWorker {
 public:
  FleetWorker(const std::vector<Target>& targets, const FleetWorkerOptions& options,
              FleetWorkerState* state)
      : options_(options),
        state_(state ? state : &own_state_),
        work_(std::max(1, options.concurrency) + 2) {
    worker_ = options.worker;
    worker_.extra_sessions = &watch_;
    worker_.read_sessions = &reads_;
    worker_.work_sessions = &work_;
    worker::Log& parent = options.worker.log ? *options.worker.log : Discard();
    std::vector<std::string> names;
    for (const Target& t : targets) {
      Entry e;
      e.target = t;
      e.log = std::make_unique<worker::Log>(parent, nlohmann::json{{"target", t.name}});
      entries_.push_back(std::move(e));
      names.push_back(t.name);
    }
    state_->Set(names);
    std::mt19937_64 random(options.seed ? options.seed : std::random_device{}());
    cursor_ = entries_.empty() ? 0 : random() % entries_.size();
  }

  void Run() {
    std::vector<std::thread> slots;
    int n = std::max(1, std::min<int>(options_.concurrency, static_cast<int>(entries_.size())));
    for (int i = 0; i < n; ++i) slots.emplace_back([this] { Slot(); });
    std::thread metrics;
    if (options_.metrics_interval > Duration(0)) metrics = std::thread([this] { ReadMetrics(); });
    for (auto& t : slots) t.join();
    if (metrics.joinable()) metrics.join();
  }

 private:
  struct Entry {
    Target target;
    std::unique_ptr<worker::Log> log;
    bool busy = false;
    Clock::time_point due{};
    std::string idle_fingerprint;  // the probe before a run that found nothing to do
    Clock::time_point idle_at{};
    std::string unreachable;                 // the error last logged, while unreachable
    std::optional<long long> events_before;  // the newest event at the first probe
  };

  // The next database due, round robin from the cursor; none when all are busy or not due.
  std::optional<size_t> Next(Clock::time_point now, Clock::time_point* earliest) {
    *earliest = now + Duration(100);
    for (size_t k = 0; k < entries_.size(); ++k) {
      size_t i = (cursor_ + k) % entries_.size();
      Entry& e = entries_[i];
      if (e.busy) continue;
      if (e.due <= now) {
        cursor_ = (i + 1) % entries_.size();
        return i;
      }
      *earliest = std::min(*earliest, e.due);
    }
    return std::nullopt;
  }

  void Slot() {
    while (!interrupt::Requested()) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        Clock::time_point earliest;
        auto next = Next(Clock::now(), &earliest);
        if (!next) {
          // Short waits: a signal is noticed within 100 ms.
          wake_.wait_until(lock, std::min(earliest, Clock::now() + Duration(100)));
          continue;
        }
        i = *next;
        entries_[i].busy = true;
      }
      Duration again{0};
      {
        // A background job of a database being served may hold one for a while.
        WorkToken token(work_);
        if (token.held()) again = Serve(entries_[i]);
      }
      std::lock_guard<std::mutex> lock(mutex_);
      entries_[i].busy = false;
      entries_[i].due = Clock::now() + again;
    }
  }

  void Unreachable(Entry& e, size_t index, const Status& status) {
    // Logged when it becomes unreachable or the reason changes, not at every retry.
    if (e.unreachable != status.message()) {
      e.log->Error(
          "database unreachable; the other databases go on, this one is retried",
          {{"error", status.message()}, {"retry_in_ms", options_.unreachable_retry.count()}});
    }
    e.unreachable = status.message();
    state_->Update(index, [&](FleetTargetState& t) { t.unreachable = status.message(); });
  }

  // Probes `e` and serves it when it has work nobody else is doing; returns when to look again.
  Duration Serve(Entry& e) {
    size_t index = static_cast<size_t>(&e - entries_.data());
    auto url = TargetUrl(e.target);
    if (!url.ok()) {
      Unreachable(e, index, url.status());
      return options_.unreachable_retry;
    }
    auto probe = ProbeTarget(*url, options_.worker.schema, options_.connect_timeout_seconds);
    if (!probe.ok()) {
      Unreachable(e, index, probe.status());
      return options_.unreachable_retry;
    }
    if (!e.events_before) e.events_before = probe->newest_event;  // may stay unset
    if (!e.unreachable.empty()) {
      e.log->Info("database reachable again");
      e.unreachable.clear();
      state_->Update(index, [](FleetTargetState& t) { t.unreachable.clear(); });
    }
    if (probe->owned_elsewhere || probe->open == 0) return options_.probe_interval;
    // Nothing changed since a run found nothing runnable (jobs blocked behind a failed one,
    // paused, awaiting approval): no run. Looked at afresh each minute all the same.
    if (probe->fingerprint == e.idle_fingerprint &&
        Clock::now() - e.idle_at < std::chrono::minutes(1)) {
      return options_.probe_interval;
    }
    state_->Update(index, [](FleetTargetState& t) {
      t.serving = true;
      ++t.runs;
    });
    int transitions = 0;
    worker::WorkerSummary summary = ServeOnce(*url, e.target.name, options_, worker_, *e.log,
                                              e.events_before, transitions, state_->Live(index));
    state_->Update(index, [&](FleetTargetState& t) {
      t.serving = false;
      t.succeeded += summary.succeeded;
      t.failed += summary.failed;
    });
    if (!summary.status.ok()) {
      if (!interrupt::Requested()) {
        e.log->Error("could not serve this database; it is retried",
                     {{"error", summary.status.message()}});
      }
      return options_.probe_interval;
    }
    // A background job that waited for a session is not idle: it starts when one is free.
    if (summary.deferred) return std::min(options_.probe_interval, Duration(500));
    if (transitions == 0 && !summary.standby) {
      e.idle_fingerprint = probe->fingerprint;
      e.idle_at = Clock::now();
    }
    return options_.probe_interval;
  }

  // /metrics: one session reads each reachable database's job metrics in turn, a sweep every
  // metrics_interval; scrapes render what the last sweep read and never open a session.
  void ReadMetrics() {
    while (!interrupt::Requested()) {
      auto started = Clock::now();
      auto targets = state_->Snapshot();
      for (size_t i = 0; i < entries_.size() && !interrupt::Requested(); ++i) {
        std::optional<jobs::JobMetrics> read;
        auto url = TargetUrl(entries_[i].target);
        // On the short reads' slot, so that /metrics adds no session to the bound.
        bool slot = false;
        for (int k = 0; k < 50 && !(slot = reads_.TryAcquire()) && !interrupt::Requested(); ++k) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        if (!slot) continue;  // every slot busy for a second: this one keeps its last read
        if (url.ok() && targets[i].unreachable.empty()) {
          pg::ConnectOptions connect;
          connect.application_name = "tandem metrics";
          connect.connect_timeout_seconds = std::min(3, options_.connect_timeout_seconds);
          if (auto c = pg::Connection::Open(*url, connect); c.ok()) {
            if ((*c)->Exec("SET statement_timeout = '5s'").ok()) {
              if (auto m = jobs::ReadJobMetrics(**c, options_.worker.schema); m.ok()) {
                read = std::move(*m);
              }
            }
          }
        }
        reads_.Release();
        state_->Update(i, [&](FleetTargetState& t) { t.metrics = std::move(read); });
      }
      auto next = started + options_.metrics_interval;
      while (Clock::now() < next && interrupt::SleepFor(Duration(100))) {
      }
    }
  }

  const FleetWorkerOptions& options_;
  FleetWorkerState own_state_;
  FleetWorkerState* state_;
  release::WatchSlots watch_{1};
  release::WatchSlots reads_{1};
  release::WatchSlots work_;
  worker::WorkerOptions worker_;  // options_.worker with the slots above
  std::vector<Entry> entries_;
  std::mutex mutex_;
  std::condition_variable wake_;
  size_t cursor_ = 0;
};

}  // namespace

std::vector<FleetTargetState> FleetWorkerState::Snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<FleetTargetState> out = targets_;
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].running_job = out[i].serving ? live_[i]->running_job.load() : 0;
  }
  return out;
}

void FleetWorkerState::Set(const std::vector<std::string>& names) {
  std::lock_guard<std::mutex> lock(mutex_);
  targets_.clear();
  live_.clear();
  for (const auto& n : names) {
    FleetTargetState t;
    t.name = n;
    targets_.push_back(std::move(t));
    live_.push_back(std::make_unique<worker::WorkerState>());
  }
}

worker::WorkerState* FleetWorkerState::Live(size_t index) {
  std::lock_guard<std::mutex> lock(mutex_);
  return live_[index].get();
}

namespace {

void Family(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

std::string RenderFleetMetrics(const std::vector<FleetTargetState>& targets) {
  long long owned = 0, unreachable = 0, running = 0;
  for (const auto& t : targets) {
    owned += t.serving;
    unreachable += !t.unreachable.empty();
    running += t.running_job != 0;
  }
  std::string out;
  auto total = [&](const char* name, const char* help, long long value) {
    Family(out, name, "gauge", help);
    out += std::string(name) + " " + std::to_string(value) + "\n";
  };
  total("tandem_fleet_targets", "Databases this fleet worker serves.",
        static_cast<long long>(targets.size()));
  total("tandem_fleet_targets_owned",
        "Databases whose worker lock this replica holds now (it is running their jobs).", owned);
  total("tandem_fleet_targets_unreachable",
        "Databases this replica could not connect to at its last try.", unreachable);
  total("tandem_fleet_jobs_running", "Jobs this replica is running now.", running);
  auto per_target = [&](const char* name, const char* type, const char* help, auto value) {
    Family(out, name, type, help);
    for (const auto& t : targets) {
      out += std::string(name) + "{target=\"" + jobs::EscapeLabelValue(t.name) + "\"} " +
             std::to_string(value(t)) + "\n";
    }
  };
  per_target("tandem_fleet_target_owned", "gauge",
             "1 while this replica holds the database's worker lock.",
             [](const FleetTargetState& t) { return t.serving ? 1 : 0; });
  per_target("tandem_fleet_target_reachable", "gauge",
             "0 when this replica could not connect to the database at its last try.",
             [](const FleetTargetState& t) { return t.unreachable.empty() ? 1 : 0; });
  per_target("tandem_fleet_target_running_job", "gauge",
             "The id of the job this replica runs on the database now, 0 for none.",
             [](const FleetTargetState& t) { return t.running_job; });
  per_target("tandem_fleet_target_runs_total", "counter",
             "Times this replica took the database's worker lock to run its jobs.",
             [](const FleetTargetState& t) { return t.runs; });
  std::vector<jobs::TargetMetrics> read;
  for (const auto& t : targets) {
    if (t.metrics) read.push_back({t.name, *t.metrics});
  }
  if (!read.empty()) out += jobs::RenderMetricsText(read);
  return out;
}

void RunFleetWorker(const std::vector<Target>& targets, const FleetWorkerOptions& options,
                    FleetWorkerState* state) {
  if (targets.empty()) return;
  FleetWorker worker(targets, options, state);
  worker.Run();
}

FleetOnceReport RunFleetWorkerOnce(const std::vector<Target>& targets,
                                   const FleetWorkerOptions& options) {
  FleetOnceReport report;
  report.summaries.resize(targets.size());
  worker::Log& parent = options.worker.log ? *options.worker.log : Discard();
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < targets.size(); ++i) index[targets[i].name] = i;
  release::WatchSlots watch(1), reads(1);
  release::WatchSlots work(std::max(1, options.concurrency) + 2);
  worker::WorkerOptions base = options.worker;
  base.extra_sessions = &watch;
  base.read_sessions = &reads;
  base.work_sessions = &work;
  RolloutOptions rollout;
  rollout.concurrency = options.concurrency;
  rollout.max_failures = 0;  // every database is served, whatever happens on the others
  Operation serve = [&](const Target& target) -> Status {
    worker::WorkerSummary& summary = report.summaries[index.at(target.name)];
    TANDEM_ASSIGN_OR_RETURN(pg::DatabaseUrl url, TargetUrl(target));
    WorkToken token(work);
    if (!token.held()) return Status::Ok();  // interrupted
    TANDEM_ASSIGN_OR_RETURN(
        Probe probe, ProbeTarget(url, options.worker.schema, options.connect_timeout_seconds));
    if (probe.owned_elsewhere) {
      summary.standby = true;
      return Status::Ok();
    }
    if (probe.open == 0) return Status::Ok();
    worker::Log log(parent, nlohmann::json{{"target", target.name}});
    int transitions = 0;
    summary =
        ServeOnce(url, target.name, options, base, log, probe.newest_event, transitions, nullptr);
    // A background job that found no free sessions runs once two are (they are always left for
    // them: `work` holds two more than the databases served at once).
    while (summary.status.ok() && summary.deferred && !interrupt::Requested()) {
      interrupt::SleepFor(Duration(200));
      worker::WorkerSummary more =
          ServeOnce(url, target.name, options, base, log, probe.newest_event, transitions, nullptr);
      more.succeeded += summary.succeeded;
      more.failed += summary.failed;
      more.retrying += summary.retrying;
      summary = more;
    }
    if (!summary.status.ok()) return summary.status;
    if (summary.failed > 0) {
      return Status::Failed(std::to_string(summary.failed) + " job" +
                            (summary.failed == 1 ? "" : "s") + " failed");
    }
    if (summary.needs_person) return Status::Failed("a job waits for a person");
    if (summary.retry_pending) return Status::Failed("a job waits for its next attempt");
    return Status::Ok();
  };
  report.rollout = Rollout(targets, serve, rollout);
  return report;
}

}  // namespace tandem::fleet
