// The HTTP server over real sockets on 127.0.0.1 (ephemeral ports): routing, the limits, the
// token, streams, and Stop with clients still connected.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "server/http_parse.h"

namespace tandem::server {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A client socket connected to 127.0.0.1:port (or [::1] when ipv6), closed when it dies.
class Client {
 public:
  explicit Client(int port, bool ipv6 = false) {
    fd_ = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc;
    if (ipv6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(static_cast<uint16_t>(port));
      inet_pton(AF_INET6, "::1", &a.sin6_addr);
      rc = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(port));
      inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
      rc = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    }
    EXPECT_EQ(rc, 0) << "connect: " << std::strerror(errno);
  }
  ~Client() { close(fd_); }
  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Reads until the server closes (or 5 s pass).
  std::string ReadAll() {
    std::string out;
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buffer[4096];
      ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }
  // Reads what arrives within `wait`.
  std::string ReadFor(milliseconds wait) {
    std::string out;
    auto deadline = Clock::now() + wait;
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      char buffer[4096];
      ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      out.append(buffer, static_cast<size_t>(n));
    }
    return out;
  }

 private:
  int fd_ = -1;
};

struct Reply {
  int status = 0;
  std::string head;
  std::string body;
  std::string Header(const std::string& name) const {
    std::string lower_head = head;
    for (char& c : lower_head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string key = "\r\n" + name + ": ";
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t at = lower_head.find(key);
    if (at == std::string::npos) return "";
    size_t start = at + key.size();
    return head.substr(start, head.find("\r\n", start) - start);
  }
  bool HasHeader(const std::string& name) const { return !Header(name).empty(); }
};

Reply ParseReply(const std::string& raw) {
  Reply reply;
  size_t end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  reply.head = raw.substr(0, end);
  reply.body = raw.substr(end + 4);
  return reply;
}

Reply Exchange(int port, const std::string& request) {
  Client client(port);
  client.Send(request);
  return ParseReply(client.ReadAll());
}

Reply Get(int port, const std::string& target, const std::string& extra = "") {
  return Exchange(port, "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n");
}

Reply Post(int port, const std::string& target, const std::string& body,
           const std::string& extra = "") {
  return Exchange(port, "POST " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body);
}

// A server on 127.0.0.1:0 with a few routes that say which one answered.
std::unique_ptr<HttpServer> StartServer(ServerOptions options = {}) {
  options.address.port = 0;
  auto server = std::make_unique<HttpServer>(options);
  server->Get("/metrics", [](const Request&) { return Response::Text(200, "exact metrics\n"); });
  server->GetPrefix("/api/", [](const Request& r) { return Response::Text(200, "api " + r.path); });
  server->GetPrefix("/api/jobs/", [](const Request& r) {
    return Response::Json(200, "{\"path\":\"" + r.path + "\",\"query\":\"" + r.query + "\"}");
  });
  server->Post("/api/jobs/pause", [](const Request& r) {
    return Response::Text(200, "paused " + std::to_string(r.body.size()));
  });
  server->Get("/throws", [](const Request&) -> Response { throw std::runtime_error("secret"); });
  server->Get("/injected", [](const Request&) {
    Response response = Response::Text(200, "ok");
    response.headers.emplace_back("X-Good", "yes");
    response.headers.emplace_back("X-Bad", "a\r\nSet-Cookie: evil=1");
    return response;
  });
  Status status = server->Start();
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_NE(server->port(), 0);
  return server;
}

TEST(ListenAddressTest, DefaultsToLoopbackAndPort7420) {
  struct Case {
    const char* text;
    const char* host;
    int port;
  };
  const Case cases[] = {
      {"", "127.0.0.1", 7420},        {":8080", "127.0.0.1", 8080},
      {"8080", "127.0.0.1", 8080},    {"localhost:9", "127.0.0.1", 9},
      {"0.0.0.0:80", "0.0.0.0", 80},  {"10.1.2.3", "10.1.2.3", 7420},
      {"[::1]:7420", "::1", 7420},    {"[::]:0", "::", 0},
      {"[fe80::1]", "fe80::1", 7420}, {"127.0.0.1:0", "127.0.0.1", 0},
  };
  for (const Case& c : cases) {
    auto address = ParseListenAddress(c.text);
    ASSERT_TRUE(address.ok()) << c.text << ": " << address.status().ToString();
    EXPECT_EQ(address->host, c.host) << c.text;
    EXPECT_EQ(address->port, c.port) << c.text;
  }
  EXPECT_EQ(ParseListenAddress("[::1]:80")->ToString(), "[::1]:80");
  EXPECT_EQ(ParseListenAddress(":80")->ToString(), "127.0.0.1:80");
  for (const char* loopback : {"", ":1", "127.0.0.1:1", "127.1.2.3", "[::1]:1", "localhost"}) {
    EXPECT_TRUE(ParseListenAddress(loopback)->loopback()) << loopback;
  }
  for (const char* open : {"0.0.0.0", "10.0.0.1:1", "[::]:1", "[fe80::1]", "128.0.0.1"}) {
    EXPECT_FALSE(ParseListenAddress(open)->loopback()) << open;
  }
}

TEST(ListenAddressTest, BadInputIsInvalidInputWithAHint) {
  for (const char* text : {"example.com:80", "::1", "[::1", "[::1]80", "[::1]:", "1.2.3.4:",
                           "1.2.3.4:65536", ":abc", "[zz]:1", "1.2.3:80", ":-1", "a b"}) {
    auto address = ParseListenAddress(text);
    ASSERT_FALSE(address.ok()) << text;
    EXPECT_EQ(address.status().code(), StatusCode::kInvalidInput) << text;
    EXPECT_NE(address.status().message().find("invalid listen address"), std::string::npos);
    EXPECT_NE(address.status().hint().find("127.0.0.1:7420"), std::string::npos);
  }
  EXPECT_NE(ParseListenAddress("::1").status().message().find("in brackets"), std::string::npos);
  // A control character in the value does not reach the message.
  EXPECT_EQ(ParseListenAddress("a\nb").status().message().find('\n'), std::string::npos);
}

TEST(HttpParseTest, HeadFormsAndRefusals) {
  ParsedHead ok = ParseHead("GET /api/events?after=3 HTTP/1.1\r\nHost: x\r\nX-A:  b \r\n");
  EXPECT_EQ(ok.error, 0);
  EXPECT_EQ(ok.request.method, "GET");
  EXPECT_EQ(ok.request.path, "/api/events");
  EXPECT_EQ(ok.request.query, "after=3");
  ASSERT_NE(ok.request.Header("x-a"), nullptr);
  EXPECT_EQ(*ok.request.Header("X-A"), "b");
  EXPECT_EQ(ParseHead("GET / HTTP/1.0\n").error, 0);  // bare LF

  EXPECT_EQ(ParseHead("GET /\r\n").error, 400);
  EXPECT_EQ(ParseHead("GET  / HTTP/1.1\r\n").error, 400);
  EXPECT_EQ(ParseHead("GET http://x/ HTTP/1.1\r\n").error, 400);
  EXPECT_EQ(ParseHead("G(T / HTTP/1.1\r\n").error, 400);
  EXPECT_EQ(ParseHead("GET / HTTP/2.0\r\n").error, 505);
  EXPECT_EQ(ParseHead("GET / FTP/1.1\r\n").error, 400);
  EXPECT_EQ(ParseHead("GET / HTTP/1.1\r\nNoColon\r\n").error, 400);
  EXPECT_EQ(ParseHead("GET / HTTP/1.1\r\nA: b\r\n folded\r\n").error, 400);
  EXPECT_EQ(ParseHead("GET / HTTP/1.1\r\nBad Name: b\r\n").error, 400);
  EXPECT_EQ(ParseHead("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n").error, 411);
  EXPECT_EQ(ParseHead("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n").error, 400);
  EXPECT_EQ(ParseHead("POST / HTTP/1.1\r\nContent-Length: -1\r\n").error, 400);
  EXPECT_EQ(ParseHead("POST / HTTP/1.1\r\nContent-Length: 5\r\n").content_length, 5u);

  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nA: b\r\n"), std::string_view::npos);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nA: b\r\n\r"), std::string_view::npos);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\n\r\nbody"), 18u);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\n\nbody"), 16u);
}

TEST(HttpServerTest, RoutesExactPathsThenTheLongestPrefix) {
  auto server = StartServer();
  Reply exact = Get(server->port(), "/metrics");
  EXPECT_EQ(exact.status, 200);
  EXPECT_EQ(exact.body, "exact metrics\n");
  EXPECT_EQ(exact.Header("Content-Length"), "14");
  EXPECT_EQ(exact.Header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(exact.Header("Connection"), "close");
  EXPECT_EQ(exact.Header("Cache-Control"), "no-store");
  EXPECT_EQ(Get(server->port(), "/api/targets").body, "api /api/targets");
  Reply job = Get(server->port(), "/api/jobs/7?x=1");
  EXPECT_EQ(job.body, R"({"path":"/api/jobs/7","query":"x=1"})");
  EXPECT_EQ(job.Header("Content-Type"), "application/json");
  // HEAD: the GET route's headers, its length, no body.
  Reply head = Exchange(server->port(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("Content-Length"), "14");
  EXPECT_EQ(head.body, "");
}

TEST(HttpServerTest, UnknownPathIs404AndNothingIsEchoed) {
  auto server = StartServer();
  Reply reply = Get(server->port(), "/%3Cscript%3E<script>alert(1)</script>");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body, "not found\n");
  EXPECT_EQ(reply.Header("X-Content-Type-Options"), "nosniff");
  Reply bad = Exchange(server->port(), "GET /x<script> HTTP/9.9\r\n\r\n");
  EXPECT_EQ(bad.status, 505);
  EXPECT_EQ(bad.body.find("script"), std::string::npos);
}

TEST(HttpServerTest, WrongMethodIs405WithAllow) {
  auto server = StartServer();
  Reply put = Exchange(server->port(), "PUT /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.Header("Allow"), "GET, HEAD");
  Reply post = Post(server->port(), "/metrics", "");
  EXPECT_EQ(post.status, 405);
  Reply get = Get(server->port(), "/api/jobs/pause");  // a GET prefix route answers it
  EXPECT_EQ(get.status, 200);
  Reply del = Exchange(server->port(), "DELETE /api/jobs/pause HTTP/1.1\r\n\r\n");
  EXPECT_EQ(del.status, 405);
  EXPECT_EQ(del.Header("Allow"), "GET, POST, HEAD");
}

TEST(HttpServerTest, PostRoutesNeedTheToken) {
  {
    auto read_only = StartServer();  // no token configured
    Reply reply =
        Post(read_only->port(), "/api/jobs/pause", "{}", "Authorization: Bearer anything\r\n");
    EXPECT_EQ(reply.status, 403);
    EXPECT_NE(reply.body.find("read-only"), std::string::npos);
  }
  ServerOptions options;
  options.token = "s3cret-token";
  auto server = StartServer(options);
  Reply none = Post(server->port(), "/api/jobs/pause", "{}");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Header("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(none.body.find("s3cret"), std::string::npos);
  for (const char* wrong : {"Bearer s3cret-toke", "Bearer s3cret-token2", "Basic s3cret-token",
                            "Bearer ", "s3cret-token"}) {
    Reply reply = Post(server->port(), "/api/jobs/pause", "{}",
                       std::string("Authorization: ") + wrong + "\r\n");
    EXPECT_EQ(reply.status, 401) << wrong;
  }
  Reply right = Post(server->port(), "/api/jobs/pause", "{\"a\":1}",
                     "authorization: bearer s3cret-token\r\n");
  EXPECT_EQ(right.status, 200);
  EXPECT_EQ(right.body, "paused 7");
  // GET routes need no token.
  EXPECT_EQ(Get(server->port(), "/metrics").status, 200);
}

TEST(HttpServerTest, BearerTokenComparison) {
  Request request;
  request.headers = {{"authorization", "Bearer abc"}};
  EXPECT_TRUE(HasBearerToken(request, "abc"));
  EXPECT_FALSE(HasBearerToken(request, "abcd"));
  EXPECT_FALSE(HasBearerToken(request, "ab"));
  EXPECT_FALSE(HasBearerToken(request, ""));
  request.headers = {{"authorization", "Bearer "}};
  EXPECT_FALSE(HasBearerToken(request, ""));
  EXPECT_TRUE(CheckToken(request, "").has_value());
  EXPECT_EQ(CheckToken(request, "")->status, 403);
  EXPECT_EQ(CheckToken(request, "x")->status, 401);
}

TEST(HttpServerTest, RequestBodyArrivingInPieces) {
  ServerOptions options;
  options.token = "t";
  auto server = StartServer(options);
  Client client(server->port());
  client.Send("POST /api/jobs/pause HTTP/1.1\r\nAuthorization: Bearer t\r\n");
  std::this_thread::sleep_for(milliseconds(50));
  client.Send("Content-Length: 10\r\n\r\n12345");
  std::this_thread::sleep_for(milliseconds(50));
  client.Send("67890");
  Reply reply = ParseReply(client.ReadAll());
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "paused 10");
}

TEST(HttpServerTest, LimitsAnswer431And413And400And408) {
  ServerOptions options;
  options.token = "t";
  options.read_timeout = milliseconds(300);
  auto server = StartServer(options);
  // Headers beyond 16 KiB.
  std::string big_header = "X-Big: " + std::string(17 * 1024, 'a') + "\r\n";
  EXPECT_EQ(Get(server->port(), "/metrics", big_header).status, 431);
  // Just under the limit is fine.
  EXPECT_EQ(
      Get(server->port(), "/metrics", "X-Big: " + std::string(15 * 1024, 'a') + "\r\n").status,
      200);
  // A body beyond 1 MiB is refused from its Content-Length, before it is read.
  Reply too_big = Exchange(server->port(),
                           "POST /api/jobs/pause HTTP/1.1\r\nAuthorization: Bearer t\r\n"
                           "Content-Length: 1048577\r\n\r\n");
  EXPECT_EQ(too_big.status, 413);
  EXPECT_EQ(Post(server->port(), "/api/jobs/pause", std::string(1024 * 1024, 'x'),
                 "Authorization: Bearer t\r\n")
                .body,
            "paused 1048576");
  EXPECT_EQ(Exchange(server->port(), "garbage\r\n\r\n").status, 400);
  // A request that never finishes arriving: 408 after the read timeout, not a thread held.
  Client slow(server->port());
  slow.Send("GET /metrics HTTP/1.1\r\nHost: x\r\n");
  auto start = Clock::now();
  Reply timeout = ParseReply(slow.ReadAll());
  EXPECT_EQ(timeout.status, 408);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  // A body shorter than its Content-Length too.
  Client short_body(server->port());
  short_body.Send("POST /api/jobs/pause HTTP/1.1\r\nContent-Length: 5\r\n\r\nab");
  EXPECT_EQ(ParseReply(short_body.ReadAll()).status, 408);
}

TEST(HttpServerTest, HandlerFailuresAndInjectedHeaders) {
  auto server = StartServer();
  Reply thrown = Get(server->port(), "/throws");
  EXPECT_EQ(thrown.status, 500);
  EXPECT_EQ(thrown.body.find("secret"), std::string::npos);
  Reply injected = Get(server->port(), "/injected");
  EXPECT_EQ(injected.status, 200);
  EXPECT_EQ(injected.Header("X-Good"), "yes");
  EXPECT_FALSE(injected.HasHeader("X-Bad"));
  EXPECT_FALSE(injected.HasHeader("Set-Cookie"));
}

TEST(HttpServerTest, StreamSendsEventsWithoutContentLength) {
  ServerOptions options;
  options.address.port = 0;
  HttpServer server(options);
  server.Get("/api/stream", [](const Request&) {
    Response response;
    response.content_type = "text/event-stream";
    response.stream = [](ResponseStream& out) {
      for (int i = 1; i <= 3; ++i) {
        if (!out.Write("data: " + std::to_string(i) + "\n\n")) return;
      }
    };
    return response;
  });
  ASSERT_TRUE(server.Start().ok());
  Reply reply = Get(server.port(), "/api/stream");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("Content-Type"), "text/event-stream");
  EXPECT_FALSE(reply.HasHeader("Content-Length"));
  EXPECT_EQ(reply.body, "data: 1\n\ndata: 2\n\ndata: 3\n\n");
}

// Stop returns within a second with an idle client connected, a client half way through its
// request, and a stream waiting for its next event; the clients see their connections close.
TEST(HttpServerTest, StopIsPromptWithClientsConnected) {
  ServerOptions options;
  options.address.port = 0;
  HttpServer server(options);
  std::atomic<bool> stream_saw_stop{false};
  server.Get("/api/stream", [&](const Request&) {
    Response response;
    response.content_type = "text/event-stream";
    response.stream = [&](ResponseStream& out) {
      out.Write(": hello\n\n");
      while (!out.WaitForStop(std::chrono::seconds(30))) out.Write(": keep-alive\n\n");
      stream_saw_stop = out.stopping();
    };
    return response;
  });
  ASSERT_TRUE(server.Start().ok());
  Client idle(server.port());
  Client partial(server.port());
  partial.Send("GET /api/stream HTTP/1.1\r\n");
  Client streaming(server.port());
  streaming.Send("GET /api/stream HTTP/1.1\r\n\r\n");
  EXPECT_NE(streaming.ReadFor(milliseconds(300)).find(": hello"), std::string::npos);

  auto start = Clock::now();
  server.Stop();
  auto took = Clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(1));
  EXPECT_TRUE(stream_saw_stop.load());
  EXPECT_EQ(idle.ReadAll(), "");  // closed without a response
  // The port is closed: a new connection is refused.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(server.port()));
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  EXPECT_NE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  close(fd);
  server.Stop();  // twice is harmless
}

TEST(HttpServerTest, ConnectionsBeyondTheCapAre503) {
  ServerOptions options;
  options.max_connections = 1;
  auto server = StartServer(options);
  {
    Client holder(server->port());
    holder.Send("GET /metrics HTTP/1.1\r\n");  // unfinished: holds its thread
    std::this_thread::sleep_for(milliseconds(100));
    Reply refused = Get(server->port(), "/metrics");
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.body, "too many connections\n");
    holder.Send("\r\n");
    EXPECT_EQ(ParseReply(holder.ReadAll()).status, 200);
  }
  std::this_thread::sleep_for(milliseconds(100));  // its thread ends once the client closes
  EXPECT_EQ(Get(server->port(), "/metrics").status, 200);
}

TEST(HttpServerTest, BindsWhatWasAskedAndNamesAnAddressInUse) {
  auto first = StartServer();
  EXPECT_EQ(first->bound().host, "127.0.0.1");
  ServerOptions options;
  options.address.port = first->port();
  HttpServer second(options);
  Status status = second.Start();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("could not listen on 127.0.0.1:" + std::to_string(first->port())),
            std::string::npos)
      << status.ToString();
  EXPECT_NE(status.hint().find("--http"), std::string::npos);
}

TEST(HttpServerTest, ServesIpv6Loopback) {
  ServerOptions options;
  options.address = *ParseListenAddress("[::1]:0");
  HttpServer server(options);
  server.Get("/healthz", [](const Request&) { return Response::Text(200, "v6"); });
  Status status = server.Start();
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(server.bound().ToString(), "[::1]:" + std::to_string(server.port()));
  Client client(server.port(), /*ipv6=*/true);
  client.Send("GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(ParseReply(client.ReadAll()).body, "v6");
}

}  // namespace
}  // namespace tandem::server
