// The notifier's thread: connection, lock, and delivery per channel (see notifier.h).
#include "notify/notifier.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "migrate/state.h"
#include "notify/channel.h"
#include "notify/http_client.h"
#include "notify/payload.h"
#include "pg/quote.h"

namespace tandem::notify {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// How many events one channel handles before the others get their turn.
constexpr size_t kBatch = 200;

}  // namespace

struct Notifier::Impl {
  NotifierOptions options;
  std::vector<ChannelState> channels;

  std::mutex mutex;
  std::condition_variable changed;
  bool woken = false;  // guarded by mutex
  // Flush: requests are numbered; a pass that began after request n and found every channel
  // caught up answers it (flush_done), a pass that found the lock held elsewhere too
  // (flush_elsewhere). All guarded by mutex.
  uint64_t flush_requested = 0;
  uint64_t flush_done = 0;
  uint64_t flush_elsewhere = 0;
  bool more = false;      // a channel handled a whole batch: pass again at once
  bool finished = false;  // guarded by mutex: Run returned
  std::atomic<bool> stopping{false};
  std::atomic<bool> detached{false};  // Stop gave up waiting: the log callback may be gone

  std::unique_ptr<pg::Connection> connection;
  bool locked = false;
  std::string last_logged_error;

  void Log(std::string_view level, std::string_view message, const json& fields) {
    if (detached.load() || !options.log) return;
    options.log(level, message, fields);
  }

  void Run();
  // One pass: connect, lock, send what is due. Sets *wait to when the next pass is needed.
  Status Cycle(Duration* wait);
  // Sends what is due on one channel; true when it has handled every event there is.
  Result<bool> Pump(ChannelState& channel, Clock::time_point now);
  void AnswerFlush(uint64_t seq, bool sent);
  // Sends one event; true when it was delivered or given up (the cursor then moves past it).
  Result<bool> Deliver(ChannelState& channel, const std::string& url, const Event& event);
  Status MoveCursor(ChannelState& channel, long long to);
  Status GiveUp(ChannelState& channel, const Event& event);
  json Fields(const ChannelState& channel) const {
    return json{{"channel", channel.key}, {"kind", channel.config.kind}};
  }
  std::string Table(const char* name) const {
    return pg::QuoteIdentifier(options.schema) + "." + name;
  }
};

Notifier::Notifier(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Notifier>> Notifier::Start(NotifierOptions options) {
  auto impl = std::make_shared<Impl>();
  for (size_t i = 0; i < options.channels.size(); ++i) {
    const config::NotifyChannel& c = options.channels[i];
    std::string label = ChannelLabel(i, c.kind);
    if (c.kind != "slack" && c.kind != "webhook") {
      return Status::InvalidInput("notify " + label + ": unknown kind")
          .WithHint("use \"slack\" or \"webhook\"");
    }
    if (c.url.empty() == c.url_env.empty()) {
      return Status::InvalidInput("notify " + label + " needs exactly one of url and url_env");
    }
    if (!c.url.empty()) {
      auto parsed = ParseHttpUrl(c.url);
      if (!parsed.ok()) return Status(parsed.status()).Prefix("notify " + label);
    }
    ChannelState state;
    state.config = c;
    state.index = i;
    impl->channels.push_back(std::move(state));
  }
  if (options.target.empty()) options.target = options.url.dbname;
  impl->options = std::move(options);
  std::unique_ptr<Notifier> notifier(new Notifier(impl));
  if (impl->channels.empty()) {
    impl->finished = true;
    return notifier;
  }
  // The thread owns a reference: if Stop has to leave it behind (a hung name lookup), what it
  // touches stays alive until it ends.
  std::thread([impl] {
    impl->Run();
    std::lock_guard<std::mutex> lock(impl->mutex);
    impl->finished = true;
    impl->changed.notify_all();
  }).detach();
  return notifier;
}

Notifier::~Notifier() { Stop(); }

void Notifier::Wake() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->woken = true;
  impl_->changed.notify_all();
}

bool Notifier::Flush(Duration timeout) {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  if (impl_->channels.empty()) return true;
  uint64_t seq = ++impl_->flush_requested;
  impl_->woken = true;
  impl_->changed.notify_all();
  impl_->changed.wait_for(lock, timeout, [&] {
    return impl_->flush_done >= seq || impl_->flush_elsewhere >= seq || impl_->finished;
  });
  return impl_->flush_done >= seq;
}

void Notifier::Stop() {
  impl_->stopping = true;
  std::unique_lock<std::mutex> lock(impl_->mutex);
  impl_->changed.notify_all();
  // The HTTP client and the waits look at `stopping` at least every 100 ms; only a stuck name
  // lookup or database call can outlast this.
  if (!impl_->changed.wait_for(lock, std::chrono::seconds(2), [&] { return impl_->finished; })) {
    impl_->detached = true;
  }
}

void Notifier::Impl::Run() {
  Log("info", "notifier started", json{{"channels", channels.size()}, {"target", options.target}});
  while (!stopping) {
    Duration wait = options.poll_interval;
    Status status = Cycle(&wait);
    if (stopping) break;
    if (!status.ok()) {
      // The connection may be broken or in a failed transaction: start again from a new one
      // (the lock goes with the old session, and is taken again below).
      if (connection && connection->in_transaction()) connection->Exec("ROLLBACK");
      connection.reset();
      locked = false;
      for (ChannelState& c : channels) c.cursor = -1;
      std::string message = status.message();
      std::string full = status.ToString();
      for (const ChannelState& c : channels) {
        if (auto url = ResolveUrl(c.config); url.ok()) {
          message = Scrub(message, *url);
          full = Scrub(full, *url);
        }
      }
      // Once per distinct error, not once per poll, while the database stays unreachable.
      if (full != last_logged_error) {
        Log("error", "notifier: " + message, json{{"error", full}});
        last_logged_error = full;
      }
      wait = options.poll_interval;
    } else {
      last_logged_error.clear();
    }
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait_for(lock, wait, [&] { return woken || stopping.load(); });
    woken = false;
  }
  connection.reset();  // closes the session, which releases the lock
  Log("info", "notifier stopped", json::object());
}

void Notifier::Impl::AnswerFlush(uint64_t seq, bool sent) {
  std::lock_guard<std::mutex> lock(mutex);
  uint64_t& answered = sent ? flush_done : flush_elsewhere;
  answered = std::max(answered, seq);
  changed.notify_all();
}

Status Notifier::Impl::Cycle(Duration* wait) {
  uint64_t flush_seq;
  {
    std::lock_guard<std::mutex> lock(mutex);
    flush_seq = flush_requested;
  }
  if (connection && !connection->alive()) {
    connection.reset();
    locked = false;
  }
  if (!connection) {
    pg::ConnectOptions connect;
    connect.application_name = "tandem notifier";
    TANDEM_ASSIGN_OR_RETURN(connection, pg::Connection::Open(options.url, connect));
    // Bounded statements: the notifier must never sit on a lock or a hung query.
    TANDEM_RETURN_IF_ERROR(connection->Exec("SET statement_timeout = '10s'"));
    TANDEM_RETURN_IF_ERROR(connection->Exec("SET lock_timeout = '5s'"));
  }
  if (!locked) {
    // Polled, never the blocking form (see runner_lock.h for why).
    migrate::LockKey key = NotifierLockKey(options.schema);
    TANDEM_ASSIGN_OR_RETURN(
        auto result,
        connection->Query("SELECT pg_catalog.pg_try_advisory_lock($1, $2)",
                          {std::to_string(key.class_id), std::to_string(key.object_id)}));
    if (!result.GetBool(0, 0)) {  // another replica sends
      AnswerFlush(flush_seq, false);
      return Status::Ok();
    }
    locked = true;
    // Another replica may have moved the cursors while this one waited.
    for (ChannelState& c : channels) c.cursor = -1;
    Log("info", "notifier lock taken: this replica sends the notifications", json::object());
  }
  auto now = Clock::now();
  bool caught_up = true;
  more = false;
  for (ChannelState& channel : channels) {
    if (stopping) return Status::Ok();
    TANDEM_ASSIGN_OR_RETURN(bool done, Pump(channel, now));
    caught_up = caught_up && done;
  }
  if (caught_up) AnswerFlush(flush_seq, true);
  if (more) *wait = Duration(0);
  now = Clock::now();
  for (const ChannelState& channel : channels) {
    if (channel.pending_event != 0 && channel.due > now) {
      *wait =
          std::min(*wait, std::chrono::duration_cast<Duration>(channel.due - now) + Duration(1));
    } else if (channel.pending_event != 0) {
      *wait = Duration(0);
    }
  }
  return Status::Ok();
}

Result<bool> Notifier::Impl::Pump(ChannelState& channel, Clock::time_point now) {
  if (channel.pending_event != 0 && channel.due > now) return false;
  auto url = ResolveUrl(channel.config);
  if (!url.ok()) {
    if (!channel.missing_url_logged) {
      Log("error",
          "notify " + ChannelLabel(channel.index, channel.config.kind) + ": " +
              url.status().message(),
          json{{"kind", channel.config.kind}, {"url_env", channel.config.url_env}});
      channel.missing_url_logged = true;
    }
    return false;
  }
  channel.missing_url_logged = false;
  std::string key = ChannelKey(channel.config.kind, *url);
  if (key != channel.key) {
    // A new URL is a new channel: its own cursor, nothing pending.
    channel.key = key;
    channel.cursor = -1;
    channel.pending_event = 0;
  }
  if (channel.cursor < 0) {
    // A channel seen for the first time starts after the newest event: configuring a channel
    // does not replay the history.
    TANDEM_RETURN_IF_ERROR(connection->Exec(
        "INSERT INTO " + Table("notify_cursors") +
            " (channel, last_event_id) SELECT $1, coalesce($2::bigint, max(id), "
            "0) FROM " +
            Table("events") + " ON CONFLICT (channel) DO NOTHING",
        {key, options.new_channels_after ? pg::Param(std::to_string(*options.new_channels_after))
                                         : pg::Param()}));
    TANDEM_ASSIGN_OR_RETURN(
        auto row,
        connection->Query(
            "SELECT last_event_id FROM " + Table("notify_cursors") + " WHERE channel = $1", {key}));
    channel.cursor = row.GetInt(0, 0);
  }

  // Event ids come from a sequence, so a transaction still open can commit an event with a
  // lower id than one already visible. Skipping past such a gap would lose that event, so a
  // gap is crossed only when no transaction that could fill it is still open. The sessions are
  // read first, in their own statement: a transaction that commits after this read is then
  // visible to the events query below, whose snapshot is newer.
  TANDEM_ASSIGN_OR_RETURN(
      auto activity,
      connection->Query(
          "SELECT min(xact_start) FILTER (WHERE backend_xid IS NOT NULL OR state = 'active')"
          "::text, coalesce(bool_or(query = '<insufficient privilege>'), false) "
          "FROM pg_catalog.pg_stat_activity "
          "WHERE datname = current_database() AND pid <> pg_backend_pid() "
          // Autovacuum and other helpers insert no events; a session hidden from this role
          // shows no backend_type and counts as hidden.
          "AND coalesce(backend_type, 'client backend') = 'client backend'"));
  pg::Param oldest_writer = activity.GetParam(0, 0);
  bool hidden = activity.GetBool(0, 1);
  TANDEM_ASSIGN_OR_RETURN(
      auto rows,
      connection->Query(
          "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), "
          "coalesce(version, ''), event, actor, detail::text, "
          "clock_timestamp() - at >= $2::interval OR (NOT $3::boolean AND "
          "($4::timestamptz IS NULL OR $4::timestamptz > at + interval '100 milliseconds')) "
          "FROM " +
              Table("events") + " WHERE id > $1 ORDER BY id LIMIT " + std::to_string(kBatch),
          {std::to_string(channel.cursor), std::to_string(options.gap_wait.count()) + " ms",
           hidden ? "true" : "false", oldest_writer}));
  long long handled = channel.cursor;  // the events up to here are sent or not wanted
  bool caught_up = rows.rows() < kBatch;
  for (size_t r = 0; r < rows.rows(); ++r) {
    long long id = rows.GetInt(r, 0);
    if (id != handled + 1 && !rows.GetBool(r, 6)) {  // a gap that may still fill
      caught_up = false;
      break;
    }
    const std::string& name = rows.Get(r, 3);
    if (!Wants(channel.config, name)) {
      handled = id;
      continue;
    }
    Event event;
    event.id = id;
    event.at = rows.Get(r, 1);
    event.version = rows.Get(r, 2);
    event.event = name;
    event.actor = rows.Get(r, 4);
    event.detail = json::parse(rows.Get(r, 5), nullptr, /*allow_exceptions=*/false);
    if (event.detail.is_discarded()) event.detail = json::object();
    if (channel.pending_event != id) {
      channel.pending_event = id;
      channel.tries = 0;
      channel.backoff.emplace(
          release::BackoffSettings{options.backoff_initial, options.backoff_max});
    }
    TANDEM_ASSIGN_OR_RETURN(bool done, Deliver(channel, *url, event));
    if (!done) {  // retried later; what was skipped before it is recorded below
      caught_up = false;
      break;
    }
    handled = id;
    channel.cursor = id;  // Deliver moved the row
    channel.pending_event = 0;
    if (stopping) return false;
  }
  if (rows.rows() == kBatch && handled == rows.GetInt(kBatch - 1, 0)) more = true;
  if (handled > channel.cursor) TANDEM_RETURN_IF_ERROR(MoveCursor(channel, handled));
  return caught_up;
}

Status Notifier::Impl::MoveCursor(ChannelState& channel, long long to) {
  // Never backwards: a replica that lost the lock and still finishes a pass cannot undo what
  // the lock holder recorded.
  TANDEM_RETURN_IF_ERROR(
      connection->Exec("UPDATE " + Table("notify_cursors") +
                           " SET last_event_id = $2, updated_at = clock_timestamp() "
                           "WHERE channel = $1 AND last_event_id < $2",
                       {channel.key, std::to_string(to)}));
  channel.cursor = to;
  return Status::Ok();
}

Result<bool> Notifier::Impl::Deliver(ChannelState& channel, const std::string& url,
                                     const Event& event) {
  HttpPostOptions http;
  http.timeout = options.http_timeout;
  http.cancel = &stopping;
  http.ca_file = options.ca_file;
  ++channel.tries;
  auto response = HttpPost(url, PayloadFor(channel.config.kind, event, options.target), http);
  if (!response.ok() && response.status().code() == StatusCode::kInterrupted) {
    --channel.tries;  // stopping: not the webhook's fault; whoever sends next tries again
    return false;
  }
  json fields = Fields(channel);
  fields["event_id"] = event.id;
  fields["event"] = event.event;
  fields["attempt"] = channel.tries;
  if (response.ok() && response->status >= 200 && response->status < 300) {
    TANDEM_RETURN_IF_ERROR(MoveCursor(channel, event.id));
    fields["status"] = response->status;
    Log("info", "notification sent", fields);
    return true;
  }
  Duration wait = channel.backoff->Next();
  if (response.ok()) {
    channel.last_status = response->status;
    channel.last_error = "HTTP " + std::to_string(response->status);
    if (response->status == 429) {
      if (auto header = response->Header("retry-after")) {
        if (auto after = ParseRetryAfter(*header)) wait = std::min(*after, options.retry_after_max);
      }
    }
  } else {
    channel.last_status = 0;
    channel.last_error = Scrub(response.status().message(), url);
  }
  fields["status"] = channel.last_status;
  fields["error"] = channel.last_error;
  if (channel.tries >= options.max_tries) {
    TANDEM_RETURN_IF_ERROR(GiveUp(channel, event));
    Log("error",
        "gave up on a notification after " + std::to_string(channel.tries) +
            " tries: " + channel.last_error,
        fields);
    return true;
  }
  channel.due = Clock::now() + wait;
  fields["retry_in_ms"] = wait.count();
  Log("warning", "could not send a notification: " + channel.last_error, fields);
  return false;
}

Status Notifier::Impl::GiveUp(ChannelState& channel, const Event& event) {
  json detail = {{"channel_kind", channel.config.kind},
                 {"channel", channel.key},
                 {"event_id", event.id},
                 {"event", event.event},
                 {"tries", channel.tries},
                 {"last_status", channel.last_status},
                 {"last_error", channel.last_error}};
  if (event.detail.is_object() && event.detail.contains("job")) detail["job"] = event.detail["job"];
  // The failure and the cursor move together: a crash in between neither loses the record nor
  // gives up twice.
  TANDEM_RETURN_IF_ERROR(connection->Exec("BEGIN"));
  Status status = migrate::RecordEvent(*connection, options.schema, event.version, "notify.failed",
                                       detail.dump());
  if (status.ok()) status = MoveCursor(channel, event.id);
  if (status.ok()) status = connection->Exec("COMMIT");
  if (!status.ok()) connection->Exec("ROLLBACK");
  return status;
}

}  // namespace tandem::notify
