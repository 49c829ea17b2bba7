// The notification sender `tandem worker` starts: it reads `job.<state>` events from the
// append-only tandem.events table (the outbox) and POSTs them to each configured [[notify]]
// channel, in event order, with retries.
//
// It runs on its own thread with its own database connection, so a failing or hanging webhook
// never delays or fails a migration. Delivery state is one row per channel in
// tandem.notify_cursors (the id of the last event handled), keyed by the channel's kind and a
// hash of its URL, never the URL: a new channel starts at the newest event instead of replaying
// history. Among replicas, only the one holding the notifier's advisory lock sends (the others
// retry the lock each poll), so each event is delivered once; across a crash between a
// webhook's 2xx and the cursor update it is delivered again (at least once). See
// docs/notifications.md.
//
// Webhook URLs are secrets: no log line, event or error of this file contains one.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "base/status.h"
#include "config/config.h"
#include "migrate/runner_lock.h"
#include "pg/url.h"

namespace tandem::notify {

// level: "info", "warning" or "error". Called from the notifier's thread.
using LogFunction = std::function<void(std::string_view level, std::string_view message,
                                       const nlohmann::json& fields)>;

struct NotifierOptions {
  pg::DatabaseUrl url;  // the notifier opens its own connection with it
  std::string schema = "tandem";
  std::vector<config::NotifyChannel> channels;
  std::string target;  // the label messages name (the database); empty: url.dbname
  Duration poll_interval{1000};
  LogFunction log;  // may be empty

  // Delivery policy. Tests shorten the waits; the defaults are the documented behaviour.
  Duration backoff_initial{1000};         // after a failed try: 1 s, 2 s, 4 s ... with jitter
  Duration backoff_max{5 * 60'000};       // the cap of that backoff
  Duration retry_after_max{60 * 60'000};  // a 429's Retry-After is honoured up to this
  int max_tries = 8;                      // then the event is given up (a notify.failed event)
  Duration http_timeout{10'000};          // one try, connect to answer
  // A gap in event ids (an event whose transaction has not committed yet, or rolled back) is
  // waited for while a transaction that could still fill it is open, and at most this long.
  Duration gap_wait{30'000};
  std::string ca_file;  // trusted certificates instead of the system's (tests)
  // Where a channel seen for the first time starts: after this event id (the newest one when
  // the worker started, so that what this worker does is announced even if it happens before
  // the notifier's thread first reads the cursors). Unset: after the newest event at that read.
  std::optional<long long> new_channels_after;
};

// The channel key stored in notify_cursors: "slack:" + the first 16 hex digits of the SHA-256
// of the URL.
std::string ChannelKey(std::string_view kind, std::string_view url);

// The notifier's advisory lock: tandem's class id + 2, the schema's hash (runner_lock.h).
migrate::LockKey NotifierLockKey(const std::string& schema);

class Notifier {
 public:
  // Checks the channels (kind, URL syntax when given inline) and starts the thread, which
  // connects, takes the lock when it can and sends. kInvalidInput for a bad channel (the
  // message names the channel by its number and kind, never its URL). Database trouble is not
  // an error here: the thread logs it and retries each poll.
  static Result<std::unique_ptr<Notifier>> Start(NotifierOptions options);

  // Stops the thread (Stop).
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Look at the events now instead of at the next poll (the worker calls it after each
  // transition it makes). Thread-safe, never blocks.
  void Wake();

  // Waits until every event committed before the call has been handled (sent, or given up
  // after max_tries) on every channel, or `timeout` passes. True when everything was handled;
  // false on timeout, when another replica holds the lock (it sends), or after Stop. For
  // `tandem worker --once`, which should not exit with its notifications unsent.
  bool Flush(Duration timeout);

  // Stops sending and closes the connection (releasing the lock). Returns within about 2 s
  // even if a webhook or the database hangs: a try in flight is abandoned (and sent again by
  // whoever holds the lock next). Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit Notifier(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace tandem::notify
