// One [[notify]] channel as the notifier's thread sees it: where its URL comes from, which
// events it wants, and the delivery state of the event at the head of its queue.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "config/config.h"
#include "notify/payload.h"
#include "release/backoff.h"

namespace tandem::notify {

// "channel 2 (slack)": how messages name a channel (never by its URL).
std::string ChannelLabel(size_t index, std::string_view kind);

// Whether the channel sends `event` (a `job.<state>` name): every job event when its events
// list is empty, else those whose state is listed.
bool Wants(const config::NotifyChannel& channel, std::string_view event);

// The channel's URL now: `url`, or the environment variable `url_env` read at send time (so a
// rotated secret is picked up without a restart). kInvalidInput naming the variable when it
// is unset or empty.
Result<std::string> ResolveUrl(const config::NotifyChannel& channel);

// `text` with the URL, its path and its host replaced by "***": a second line of defence for
// messages that came from elsewhere (a server's answer, an OS error).
std::string Scrub(std::string text, std::string_view url);

// Retry-After in seconds (RFC 9110 also allows an HTTP date; that form, or nonsense, is
// nullopt and the ordinary backoff applies).
std::optional<Duration> ParseRetryAfter(std::string_view value);

struct ChannelState {
  config::NotifyChannel config;
  size_t index = 0;
  std::string key;        // ChannelKey of the URL last resolved; "" before the first
  long long cursor = -1;  // last event id handled; -1 until read from notify_cursors
  bool missing_url_logged = false;
  // The event at the head of the queue while it is being retried.
  long long pending_event = 0;
  int tries = 0;
  std::optional<release::Backoff> backoff;
  std::chrono::steady_clock::time_point due{};  // no try before this
  int last_status = 0;                          // of the last try (0: no HTTP answer)
  std::string last_error;
};

}  // namespace tandem::notify
