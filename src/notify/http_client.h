// A minimal HTTP/1.1 client for one thing: POSTing a notification to a webhook.
//
// Written here rather than linked (libcurl, cpp-httplib) because every tandem command pays for
// loading shared libraries at startup; this needs only sockets and OpenSSL's libssl, which is
// linked statically. https:// verifies the server's certificate against the system's trust
// store (or `ca_file`), checks the host name and sends SNI.
//
// A webhook URL is a secret (a Slack incoming-webhook URL is a bearer credential): no error
// message of this file contains the URL, its path or its host. Callers may say "the webhook".
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/duration.h"
#include "base/status.h"

namespace tandem::notify {

struct HttpUrl {
  bool tls = false;
  std::string host;      // without the brackets of an IPv6 literal
  int port = 0;          // 80 or 443 unless the URL says
  std::string target;    // path and query, "/" when empty
  std::string userinfo;  // "user:password" (percent-decoded), sent as Basic authorization
};

// kInvalidInput for anything but http:// and https:// URLs; the message never quotes the URL.
Result<HttpUrl> ParseHttpUrl(std::string_view url);

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased, in order
  std::string body;
  // The first header of that name (case-insensitive), if any.
  std::optional<std::string> Header(std::string_view name) const;
};

// Parses a response as it arrives: status line, headers, then a body framed by Content-Length,
// chunked transfer coding, or the end of the connection. Interim 1xx responses are skipped.
class ResponseParser {
 public:
  enum class State { kNeedMore, kDone, kError };
  // Bodies beyond this are refused (a webhook's answer is a few bytes).
  static constexpr size_t kMaxBody = 1 << 20;

  State Feed(std::string_view data);
  // The connection ended: kDone when a body framed by the connection's end is complete.
  State Finish();
  const HttpResponse& response() const { return response_; }
  HttpResponse TakeResponse() { return std::move(response_); }
  const std::string& error() const { return error_; }

 private:
  enum class Phase { kHead, kBody, kChunkSize, kChunkData, kChunkDataEnd, kTrailers, kDone };
  State Fail(std::string message);
  State Step();

  Phase phase_ = Phase::kHead;
  std::string buffer_;
  HttpResponse response_;
  std::optional<size_t> content_length_;
  bool chunked_ = false;
  size_t chunk_left_ = 0;
  std::string error_;
};

struct HttpPostOptions {
  // For the whole exchange: resolving, connecting, the TLS handshake, writing, reading.
  Duration timeout{10'000};
  // Checked at least every 100 ms while waiting: when it becomes true the call returns
  // kInterrupted at once (Notifier::Stop must not wait for a hanging webhook).
  const std::atomic<bool>* cancel = nullptr;
  // A PEM file of trusted certificates instead of the system's (tests).
  std::string ca_file;
  std::string content_type = "application/json";
};

// POSTs `body` and returns the response whatever its status. kUnavailable when no response
// could be had (resolve, connect, TLS, timeout, a malformed response), kInvalidInput for a bad
// URL, kInterrupted when cancelled. Messages never contain the URL or its host.
Result<HttpResponse> HttpPost(std::string_view url, std::string_view body,
                              const HttpPostOptions& options = {});

}  // namespace tandem::notify
