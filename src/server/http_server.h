// tandem's own small HTTP/1.1 server, for `tandem worker --http` (/metrics, /healthz) and the
// dashboard's pages, JSON API and server-sent events. Ours rather than a library's: linking
// libcpp-httplib's shared library costs 3 ms of startup on every tandem command, and what is
// needed here is small: exact-path and prefix routes, bounded request parsing, one response per
// connection (`Connection: close`), and a stream for server-sent events.
//
// Safe by default: it binds only to the address asked for (127.0.0.1 unless the user writes
// another), every route that is not GET/HEAD answers only a request bearing the configured
// token (`Authorization: Bearer <token>`, compared in constant time), and no response echoes
// request data (the error bodies are fixed text).
//
// Threads: one accept thread and one thread per connection, at most max_connections at once
// (beyond that a connection is answered 503 at once). Stop() wakes every thread that waits on
// a socket and joins them all; a handler that takes long must be a stream and watch
// ResponseStream::stopping().
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"

namespace tandem::server {

inline constexpr int kDefaultPort = 7420;

struct ListenAddress {
  std::string host = "127.0.0.1";  // an IPv4 or IPv6 literal (IPv6 without brackets)
  int port = kDefaultPort;         // 0: an ephemeral port, chosen by the kernel
  bool ipv6() const { return host.find(':') != std::string::npos; }
  // 127.0.0.0/8 or ::1: reachable from this machine only. The dashboard refuses any other
  // address unless a token is configured.
  bool loopback() const;
  // "127.0.0.1:7420", "[::1]:7420".
  std::string ToString() const;
};

// `--http` values: "" (the flag without a value) is 127.0.0.1:7420; ":8080" and "8080" are
// 127.0.0.1:8080; "0.0.0.0:8080" binds every IPv4 interface (only when written so);
// "[::1]:7420" is IPv6; "localhost" is 127.0.0.1; a host without a port gets 7420. Anything
// else (host names, IPv6 without brackets, a bad port) is kInvalidInput with a hint.
Result<ListenAddress> ParseListenAddress(std::string_view text);

struct Request {
  std::string method;  // "GET", "HEAD", "POST"
  std::string target;  // as sent: "/api/events?after=3"
  std::string path;    // target before '?', not percent-decoded: "/api/events"
  std::string query;   // target after '?', without it: "after=3"
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased, in order
  std::string body;                                          // exactly Content-Length bytes
  std::string remote;  // the peer's address ("127.0.0.1", "::1"); "" when unknown

  // The first header of that name (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
};

// What a streaming handler writes to (server-sent events). The head has been sent (without a
// Content-Length: the body ends when the connection closes).
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Sends bytes at once. False when the client has gone or the server is stopping: the
  // handler should return then.
  virtual bool Write(std::string_view bytes) = 0;
  // True once Stop() has been called.
  virtual bool stopping() const = 0;
  // Sleeps up to `timeout`, returning early (true) when the server stops or the client closes
  // the connection: the wait between two events.
  virtual bool WaitForStop(std::chrono::milliseconds timeout) = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Extra headers. A name or value with a CR or LF is dropped, never sent.
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the server sends the status and headers, then calls stream instead of sending
  // `body` (for `text/event-stream`), and closes the connection when it returns.
  std::function<void(ResponseStream&)> stream;

  static Response Text(int status, std::string body);
  static Response Json(int status, std::string body);
};

using Handler = std::function<Response(const Request&)>;

// The reason phrase of a status code ("Not Found"); "" for codes the server does not use.
std::string_view ReasonPhrase(int status);

// Whether the request carries `Authorization: Bearer <token>` with exactly this token, compared
// in constant time (the time does not depend on where the two differ, nor on their lengths).
// Always false when `token` is empty.
bool HasBearerToken(const Request& request, std::string_view token);

// Whether `given` is exactly `token`, in constant time as above; false when `token` is empty.
bool TokensMatch(std::string_view given, std::string_view token);

// The answer to a request that may change something and does not bear the token: 401 with
// `WWW-Authenticate: Bearer` (403 when the server has no token: it is read-only); nullopt when
// the request may proceed.
std::optional<Response> CheckToken(const Request& request, std::string_view token);

struct ServerOptions {
  ListenAddress address;
  // Required by every POST route. Empty: POST routes answer 403 (read-only server).
  std::string token;
  size_t max_head_bytes = 16 * 1024;    // request line and headers; 431 beyond
  size_t max_body_bytes = 1024 * 1024;  // 413 beyond
  // For the whole request to arrive, from the moment it is accepted; 408 after it.
  std::chrono::milliseconds read_timeout{10000};
  // For each write of the response to be taken by the client.
  std::chrono::milliseconds write_timeout{10000};
  int max_connections = 64;  // connections served at once; 503 beyond
  // When set, decides for every non-GET route instead of CheckToken: nullopt lets the request
  // proceed, a response refuses it (the dashboard also accepts a session cookie, with a
  // same-origin check).
  std::function<std::optional<Response>(const Request&)> authorize;
};

class HttpServer {
 public:
  explicit HttpServer(ServerOptions options);
  ~HttpServer();  // Stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes, registered before Start(). An exact path wins over a prefix; the longest prefix
  // wins among prefixes. A GET route answers HEAD too. A POST route is called only for a
  // request bearing the token (CheckToken).
  void Get(std::string path, Handler handler);
  void Post(std::string path, Handler handler);
  void GetPrefix(std::string prefix, Handler handler);
  void PostPrefix(std::string prefix, Handler handler);

  // Binds, listens and starts the accept thread. kInvalidInput for an address that is not an
  // IP literal; kUnavailable when the address cannot be bound (in use, not local), naming it.
  Status Start();
  // Closes the listening socket, wakes every connection and joins every thread; returns once
  // all have ended (promptly unless a non-streaming handler is still computing).
  void Stop();

  // After Start(): the address actually bound (the kernel's port when 0 was asked).
  const ListenAddress& bound() const { return bound_; }
  int port() const { return bound_.port; }

 private:
  struct Route {
    std::string method;
    std::string path;
    bool prefix = false;
    Handler handler;
  };
  struct Connection {
    int fd = -1;
    std::string remote;  // the peer's address
    std::thread thread;
    std::atomic<bool> done{false};
  };
  class Stream;

  void AddRoute(std::string method, std::string path, bool prefix, Handler handler);
  void AcceptLoop();
  void Serve(Connection& connection);
  Response Dispatch(const Request& request);
  void ReapFinished();

  ServerOptions options_;
  std::vector<Route> routes_;
  ListenAddress bound_;
  int listen_fd_ = -1;
  int wake_read_ = -1;  // a pipe written once by Stop(): every poll() watches its read end
  int wake_write_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mutex_;  // guards connections_
  std::list<std::unique_ptr<Connection>> connections_;
  bool started_ = false;
};

}  // namespace tandem::server
