// The sockets and threads of http_server.h. Every wait is a poll() that also watches the read
// end of a pipe Stop() writes to once and nobody reads, so one write wakes every thread at once
// and keeps them awake until they have returned.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <system_error>

#include "server/http_parse.h"

namespace tandem::server {
namespace {

using Clock = std::chrono::steady_clock;

enum class Wait { kReady, kTimeout, kStopped };

// "127.0.0.1", "::1": who sent a request (the dashboard names it as the actor of a change).
std::string PeerAddress(const sockaddr_storage& peer) {
  char text[INET6_ADDRSTRLEN] = {};
  if (peer.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&peer);
    if (inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text) != nullptr) return text;
  } else if (peer.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&peer);
    if (inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text) != nullptr) return text;
  }
  return "";
}

// Waits until `fd` is ready for `events`, the deadline passes or the wake pipe is written.
Wait WaitFor(int fd, short events, int wake_fd, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Wait::kTimeout;
    pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    int n = poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 1 << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Wait::kStopped;  // cannot wait any more: treat as the end
    if (fds[1].revents != 0) return Wait::kStopped;
    if (n > 0) return Wait::kReady;
  }
}

// Sends all of `data`; false when the client has gone, the deadline passed, or the server is
// stopping while the client is not taking the bytes.
bool SendAll(int fd, std::string_view data, int wake_fd, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (WaitFor(fd, POLLOUT, wake_fd, deadline) != Wait::kReady) return false;
      continue;
    }
    return false;
  }
  return true;
}

bool SafeHeaderText(const std::string& text) {
  return text.find_first_of("\r\n") == std::string::npos;
}

std::string ResponseHead(const Response& response, std::optional<size_t> content_length) {
  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     std::string(ReasonPhrase(response.status)) + "\r\n";
  bool cache_control = false;
  if (SafeHeaderText(response.content_type)) {
    head += "Content-Type: " + response.content_type + "\r\n";
  }
  if (content_length) head += "Content-Length: " + std::to_string(*content_length) + "\r\n";
  head += "Connection: close\r\nX-Content-Type-Options: nosniff\r\n";
  for (const auto& [name, value] : response.headers) {
    // A header built from data could otherwise split the response (CRLF injection).
    if (name.empty() || !SafeHeaderText(name) || !SafeHeaderText(value)) continue;
    if (strcasecmp(name.c_str(), "cache-control") == 0) cache_control = true;
    head += name + ": " + value + "\r\n";
  }
  // Metrics, health and job state are live values: no cache should answer for the server.
  if (!cache_control) head += "Cache-Control: no-store\r\n";
  head += "\r\n";
  return head;
}

}  // namespace

class HttpServer::Stream : public ResponseStream {
 public:
  Stream(int fd, int wake_fd, const std::atomic<bool>& stopping, std::chrono::milliseconds timeout)
      : fd_(fd), wake_fd_(wake_fd), stopping_(stopping), timeout_(timeout) {}

  bool Write(std::string_view bytes) override {
    if (gone_) return false;
    if (!SendAll(fd_, bytes, wake_fd_, Clock::now() + timeout_)) gone_ = true;
    return !gone_;
  }
  bool stopping() const override { return stopping_.load(); }
  bool WaitForStop(std::chrono::milliseconds timeout) override {
    Clock::time_point deadline = Clock::now() + timeout;
    while (!gone_) {
      Wait wait = WaitFor(fd_, POLLIN, wake_fd_, deadline);
      if (wait == Wait::kTimeout) return false;
      if (wait == Wait::kStopped) return true;
      // The client sent something: EOF means it has gone; anything else is ignored.
      char buffer[512];
      ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) gone_ = true;
    }
    return true;
  }

 private:
  int fd_;
  int wake_fd_;
  const std::atomic<bool>& stopping_;
  std::chrono::milliseconds timeout_;
  bool gone_ = false;
};

HttpServer::HttpServer(ServerOptions options) : options_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::AddRoute(std::string method, std::string path, bool prefix, Handler handler) {
  routes_.push_back(Route{std::move(method), std::move(path), prefix, std::move(handler)});
}
void HttpServer::Get(std::string path, Handler handler) {
  AddRoute("GET", std::move(path), false, std::move(handler));
}
void HttpServer::Post(std::string path, Handler handler) {
  AddRoute("POST", std::move(path), false, std::move(handler));
}
void HttpServer::GetPrefix(std::string prefix, Handler handler) {
  AddRoute("GET", std::move(prefix), true, std::move(handler));
}
void HttpServer::PostPrefix(std::string prefix, Handler handler) {
  AddRoute("POST", std::move(prefix), true, std::move(handler));
}

Status HttpServer::Start() {
  if (started_) return Status::Internal("the HTTP server was started twice");
  const ListenAddress& address = options_.address;
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = address.ipv6() ? AF_INET6 : AF_INET;
  if (family == AF_INET6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(address.port));
    if (inet_pton(AF_INET6, address.host.c_str(), &v6->sin6_addr) != 1) {
      return Status::InvalidInput("invalid listen address \"" + address.ToString() + "\"");
    }
    length = sizeof(sockaddr_in6);
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(address.port));
    if (inet_pton(AF_INET, address.host.c_str(), &v4->sin_addr) != 1) {
      return Status::InvalidInput("invalid listen address \"" + address.ToString() + "\"");
    }
    length = sizeof(sockaddr_in);
  }

  auto fail = [&](const std::string& what) {
    int error = errno;
    if (listen_fd_ >= 0) close(listen_fd_);
    listen_fd_ = -1;
    Status status = Status::Unavailable("could not " + what + " " + address.ToString() + ": " +
                                        std::strerror(error));
    if (error == EADDRINUSE) {
      status.WithHint("another process listens there; choose another port with --http HOST:PORT");
    } else if (error == EADDRNOTAVAIL) {
      status.WithHint("the address is not one of this machine's");
    }
    return status;
  };
  listen_fd_ = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) return fail("create a socket for");
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // [::] means IPv6 only, as written; 0.0.0.0 is how to ask for every IPv4 interface.
  if (family == AF_INET6) setsockopt(listen_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    return fail("listen on");
  }
  if (listen(listen_fd_, 64) != 0) return fail("listen on");
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &bound_length);
  bound_ = address;
  bound_.port = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);

  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) return fail("create a wake-up pipe for");
  wake_read_ = pipe_fds[0];
  wake_write_ = pipe_fds[1];
  started_ = true;
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!started_ || stopping_.exchange(true)) return;
  ssize_t ignored = write(wake_write_, "x", 1);
  (void)ignored;
  if (accept_thread_.joinable()) accept_thread_.join();
  std::list<std::unique_ptr<Connection>> connections;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    connections.swap(connections_);
  }
  for (auto& connection : connections) connection->thread.join();
  close(listen_fd_);
  close(wake_read_);
  close(wake_write_);
  listen_fd_ = wake_read_ = wake_write_ = -1;
}

void HttpServer::ReapFinished() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->done.load()) {
      (*it)->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void HttpServer::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    int n = poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[1].revents != 0) return;
    sockaddr_storage peer{};
    socklen_t peer_size = sizeof peer;
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &peer_size,
                     SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      // Out of descriptors or memory: the pending connection stays queued and poll() would
      // report it again at once, so pause instead of spinning. (EAGAIN, or a connection reset
      // before it was taken: just wait for the next one.)
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        pollfd wake = {wake_read_, POLLIN, 0};
        poll(&wake, 1, 100);
      }
      continue;
    }
    ReapFinished();
    std::lock_guard<std::mutex> lock(mutex_);
    if (static_cast<int>(connections_.size()) >= options_.max_connections) {
      const std::string body = "too many connections\n";
      std::string refusal = ResponseHead(Response::Text(503, ""), body.size()) + body;
      ssize_t ignored = send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL);
      (void)ignored;
      close(fd);
      continue;
    }
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    connection->remote = PeerAddress(peer);
    Connection* raw = connection.get();
    connections_.push_back(std::move(connection));
    try {
      raw->thread = std::thread([this, raw] {
        Serve(*raw);
        close(raw->fd);
        raw->done.store(true);
      });
    } catch (const std::system_error&) {
      // No thread to be had (the process is at its limit): drop this connection, keep serving.
      close(fd);
      connections_.pop_back();
    }
  }
}

void HttpServer::Serve(Connection& connection) {
  int fd = connection.fd;
  Clock::time_point deadline = Clock::now() + options_.read_timeout;
  auto send_response = [&](const Response& response, bool head_only) {
    Clock::time_point write_deadline = Clock::now() + options_.write_timeout;
    if (response.stream) {
      if (!SendAll(fd, ResponseHead(response, std::nullopt), wake_read_, write_deadline)) return;
      if (head_only) return;
      Stream stream(fd, wake_read_, stopping_, options_.write_timeout);
      try {
        response.stream(stream);
      } catch (const std::exception&) {
        // The head is sent: closing the connection is all that is left to say.
      }
      return;
    }
    std::string out = ResponseHead(response, response.body.size());
    if (!head_only) out += response.body;
    SendAll(fd, out, wake_read_, write_deadline);
  };
  // Reads more bytes into `buffer`; false when nothing more will come (closed, stopped, an
  // error) or the deadline passed (*timed_out).
  auto read_more = [&](std::string& buffer, bool* timed_out) {
    while (true) {
      char chunk[4096];
      ssize_t n = recv(fd, chunk, sizeof chunk, 0);
      if (n > 0) {
        buffer.append(chunk, static_cast<size_t>(n));
        return true;
      }
      if (n == 0) return false;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      Wait wait = WaitFor(fd, POLLIN, wake_read_, deadline);
      if (wait == Wait::kTimeout) *timed_out = true;
      if (wait != Wait::kReady) return false;
    }
  };

  std::string buffer;
  size_t head_end = std::string::npos;
  bool timed_out = false;
  while ((head_end = FindHeadEnd(buffer)) == std::string::npos) {
    if (buffer.size() > options_.max_head_bytes) break;
    if (!read_more(buffer, &timed_out)) {
      if (timed_out)
        send_response(Response::Text(408, "the request took too long to arrive\n"), false);
      return;
    }
  }
  if (head_end == std::string::npos || head_end > options_.max_head_bytes) {
    send_response(Response::Text(431, "the request line and headers are too large\n"), false);
  } else {
    ParsedHead parsed = ParseHead(std::string_view(buffer).substr(0, head_end));
    if (parsed.error != 0) {
      send_response(Response::Text(parsed.error, parsed.error_reason + "\n"), false);
    } else if (parsed.content_length > options_.max_body_bytes) {
      send_response(Response::Text(413, "the request body is too large\n"), false);
    } else {
      std::string body = buffer.substr(head_end);
      while (body.size() < parsed.content_length) {
        if (!read_more(body, &timed_out)) {
          if (timed_out) {
            send_response(Response::Text(408, "the request took too long to arrive\n"), false);
          }
          return;
        }
      }
      body.resize(parsed.content_length);  // one request per connection: the rest is ignored
      parsed.request.body = std::move(body);
      parsed.request.remote = connection.remote;
      send_response(Dispatch(parsed.request), parsed.request.method == "HEAD");
    }
  }
  // A lingering close: the client may still be sending (a body we refused); closing with
  // unread bytes would make the kernel send a reset that can destroy the response in flight.
  shutdown(fd, SHUT_WR);
  Clock::time_point linger = Clock::now() + std::chrono::milliseconds(500);
  size_t drained = 0;
  char chunk[4096];
  while (drained < (1u << 20) && WaitFor(fd, POLLIN, wake_read_, linger) == Wait::kReady) {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) break;
    if (n > 0) drained += static_cast<size_t>(n);
  }
}

Response HttpServer::Dispatch(const Request& request) {
  std::string method = request.method == "HEAD" ? "GET" : request.method;
  const Route* exact = nullptr;
  const Route* longest = nullptr;
  std::vector<std::string> allowed;  // methods of the routes that match the path
  for (const Route& route : routes_) {
    bool matches = route.prefix ? request.path.compare(0, route.path.size(), route.path) == 0
                                : request.path == route.path;
    if (!matches) continue;
    if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) {
      allowed.push_back(route.method);
    }
    if (route.method != method) continue;
    if (!route.prefix) {
      exact = &route;
    } else if (longest == nullptr || route.path.size() > longest->path.size()) {
      longest = &route;
    }
  }
  const Route* route = exact ? exact : longest;
  if (route == nullptr) {
    if (allowed.empty()) return Response::Text(404, "not found\n");
    std::string allow;
    for (const std::string& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    if (std::find(allowed.begin(), allowed.end(), "GET") != allowed.end()) allow += ", HEAD";
    Response response = Response::Text(405, "method not allowed\n");
    response.headers.emplace_back("Allow", allow);
    return response;
  }
  if (route->method != "GET") {
    auto refusal =
        options_.authorize ? options_.authorize(request) : CheckToken(request, options_.token);
    if (refusal) return *refusal;
  }
  try {
    return route->handler(request);
  } catch (const std::exception&) {
    // The message could hold anything; it is not sent to a client.
    return Response::Text(500, "internal error\n");
  }
}

}  // namespace tandem::server
