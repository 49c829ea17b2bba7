// Channel helpers (see channel.h) and the channel key (notifier.h).
#include "notify/channel.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "base/sha256.h"
#include "notify/http_client.h"
#include "notify/notifier.h"

namespace tandem::notify {

std::string ChannelKey(std::string_view kind, std::string_view url) {
  return std::string(kind) + ":" + Sha256Hex(url).substr(0, 16);
}

migrate::LockKey NotifierLockKey(const std::string& schema) {
  migrate::LockKey key = migrate::RunnerLockKey(schema);
  key.class_id += 2;  // the runner lock is +0; +2 keeps the notifier's apart from it
  return key;
}

std::string ChannelLabel(size_t index, std::string_view kind) {
  return "channel " + std::to_string(index + 1) + " (" + std::string(kind) + ")";
}

bool Wants(const config::NotifyChannel& channel, std::string_view event) {
  if (event.rfind("job.", 0) != 0) return false;
  if (channel.events.empty()) return true;
  std::string_view state = event.substr(4);
  return std::find(channel.events.begin(), channel.events.end(), state) != channel.events.end();
}

Result<std::string> ResolveUrl(const config::NotifyChannel& channel) {
  if (channel.url_env.empty()) return channel.url;
  const char* value = std::getenv(channel.url_env.c_str());
  if (!value || !*value) {
    return Status::InvalidInput("environment variable " + channel.url_env + " is not set or empty")
        .WithHint("set it to the " + channel.kind + " URL; notifications wait until it is");
  }
  return std::string(value);
}

std::string Scrub(std::string text, std::string_view url) {
  auto replace_all = [&text](std::string_view secret) {
    if (secret.empty()) return;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  };
  replace_all(url);
  auto parsed = ParseHttpUrl(url);
  if (parsed.ok()) {
    if (parsed->target.size() > 1) replace_all(parsed->target);
    // A very short host ("a") would mangle the message; such hosts are not secret anyway.
    if (parsed->host.size() >= 4) replace_all(parsed->host);
  }
  return text;
}

std::optional<Duration> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  long long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || seconds < 0 ||
      seconds > 365LL * 24 * 3600) {
    return std::nullopt;
  }
  return Duration(seconds * 1000);
}

}  // namespace tandem::notify
