// The socket and TLS half of http_client.h. Every wait is a poll() of at most 100 ms so that
// the deadline and the cancel flag are honoured wherever the exchange is stuck (the name
// lookup excepted: getaddrinfo has no timeout of its own beyond the resolver's).
#include "notify/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

namespace tandem::notify {

namespace {

using Clock = std::chrono::steady_clock;

// SSL_write and SSL_shutdown write() to the socket, and a peer that has gone raises SIGPIPE,
// which would kill the process. Plain sockets use MSG_NOSIGNAL; around TLS the signal is
// blocked in this thread and a SIGPIPE raised meanwhile is consumed (the way libpq does it).
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
  }
  ~SigpipeGuard() {
    sigset_t pending;
    sigpending(&pending);
    if (!was_pending_ && sigismember(&pending, SIGPIPE) == 1) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      timespec zero{0, 0};
      sigtimedwait(&pipe, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

class Exchange {
 public:
  explicit Exchange(const HttpPostOptions& options)
      : options_(options), deadline_(Clock::now() + options.timeout) {}

  // Waits until `fd` is ready for `events`; kUnavailable at the deadline, kInterrupted when
  // cancelled.
  Status Wait(int fd, short events, const char* doing) {
    while (true) {
      if (options_.cancel && options_.cancel->load()) {
        return Status::Interrupted("sending to the webhook was cancelled", 0);
      }
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now());
      if (left.count() <= 0) {
        return Status::Unavailable(std::string("timed out after ") +
                                   FormatDuration(options_.timeout) + " " + doing);
      }
      pollfd p{fd, events, 0};
      int n = poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 100)));
      if (n > 0) return Status::Ok();
      if (n < 0 && errno != EINTR) {
        return Status::Unavailable(std::string("could not wait for the webhook: ") +
                                   std::strerror(errno));
      }
    }
  }

  Status Connect(const HttpUrl& url) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* found = nullptr;
    std::string port = std::to_string(url.port);
    int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found);
    if (rc != 0) {
      // gai_strerror names no host ("Name or service not known").
      return Status::Unavailable(std::string("could not resolve the webhook's host: ") +
                                 (rc == EAI_SYSTEM ? std::strerror(errno) : gai_strerror(rc)));
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
    Status last = Status::Unavailable("could not connect to the webhook: no address");
    for (addrinfo* a = found; a; a = a->ai_next) {
      Fd sock;
      sock.fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (sock.fd < 0) {
        last =
            Status::Unavailable(std::string("could not create a socket: ") + std::strerror(errno));
        continue;
      }
      if (connect(sock.fd, a->ai_addr, a->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
          last = Status::Unavailable(std::string("could not connect to the webhook: ") +
                                     std::strerror(errno));
          continue;
        }
        Status waited = Wait(sock.fd, POLLOUT, "connecting to the webhook");
        if (!waited.ok()) return waited;
        int error = 0;
        socklen_t length = sizeof(error);
        getsockopt(sock.fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error != 0) {
          last = Status::Unavailable(std::string("could not connect to the webhook: ") +
                                     std::strerror(error));
          continue;
        }
      }
      int one = 1;
      setsockopt(sock.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      fd_.fd = sock.fd;
      sock.fd = -1;
      return Status::Ok();
    }
    return last;
  }

  Status StartTls(const HttpUrl& url) {
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    if (!ctx_) return TlsError("could not set up TLS");
    SSL_CTX_set_min_proto_version(ctx_.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    int loaded = options_.ca_file.empty()
                     ? SSL_CTX_set_default_verify_paths(ctx_.get())
                     : SSL_CTX_load_verify_locations(ctx_.get(), options_.ca_file.c_str(), nullptr);
    if (loaded != 1) return TlsError("could not load the trusted certificates");
    ssl_.reset(SSL_new(ctx_.get()));
    if (!ssl_) return TlsError("could not set up TLS");
    SSL_set_fd(ssl_.get(), fd_.fd);
    // An IP address is checked against the certificate's IP entries and sent without SNI
    // (RFC 6066 allows host names only); a name is checked and sent as SNI.
    in6_addr scratch;
    bool literal = inet_pton(AF_INET, url.host.c_str(), &scratch) == 1 ||
                   inet_pton(AF_INET6, url.host.c_str(), &scratch) == 1;
    if (literal) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), url.host.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl_.get(), url.host.c_str());
      SSL_set1_host(ssl_.get(), url.host.c_str());
    }
    while (true) {
      ERR_clear_error();
      int rc = SSL_connect(ssl_.get());
      if (rc == 1) return Status::Ok();
      int error = SSL_get_error(ssl_.get(), rc);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        TANDEM_RETURN_IF_ERROR(Wait(fd_.fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                                    "in the TLS handshake with the webhook"));
        continue;
      }
      long verify = SSL_get_verify_result(ssl_.get());
      if (verify != X509_V_OK) {
        // The verification message names no host ("hostname mismatch", "unable to get local
        // issuer certificate").
        return Status::Unavailable(std::string("could not verify the webhook's TLS certificate: ") +
                                   X509_verify_cert_error_string(verify));
      }
      return TlsError("the TLS handshake with the webhook failed");
    }
  }

  Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n;
      if (ssl_) {
        ERR_clear_error();
        int rc = SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size()));
        if (rc <= 0) {
          int error = SSL_get_error(ssl_.get(), rc);
          if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
            TANDEM_RETURN_IF_ERROR(Wait(fd_.fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                                        "sending to the webhook"));
            continue;
          }
          return TlsError("could not send to the webhook");
        }
        n = rc;
      } else {
        n = send(fd_.fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            TANDEM_RETURN_IF_ERROR(Wait(fd_.fd, POLLOUT, "sending to the webhook"));
            continue;
          }
          return Status::Unavailable(std::string("could not send to the webhook: ") +
                                     std::strerror(errno));
        }
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }

  Result<HttpResponse> ReadResponse() {
    ResponseParser parser;
    char buffer[16 * 1024];
    while (true) {
      ssize_t n;
      if (ssl_) {
        ERR_clear_error();
        int rc = SSL_read(ssl_.get(), buffer, sizeof(buffer));
        if (rc <= 0) {
          int error = SSL_get_error(ssl_.get(), rc);
          if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
            TANDEM_RETURN_IF_ERROR(Wait(fd_.fd, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
                                        "waiting for the webhook's answer"));
            continue;
          }
          // A close without close_notify (SSL_ERROR_SYSCALL / EOF) is common among servers
          // that frame their answer anyway; the parser decides whether it was complete.
          if (error != SSL_ERROR_ZERO_RETURN && error != SSL_ERROR_SYSCALL) {
            return TlsError("could not read the webhook's answer");
          }
          n = 0;
        } else {
          n = rc;
        }
      } else {
        n = recv(fd_.fd, buffer, sizeof(buffer), 0);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            TANDEM_RETURN_IF_ERROR(Wait(fd_.fd, POLLIN, "waiting for the webhook's answer"));
            continue;
          }
          return Status::Unavailable(std::string("could not read the webhook's answer: ") +
                                     std::strerror(errno));
        }
      }
      ResponseParser::State state =
          n == 0 ? parser.Finish() : parser.Feed(std::string_view(buffer, n));
      if (state == ResponseParser::State::kDone) return parser.TakeResponse();
      if (state == ResponseParser::State::kError) return Status::Unavailable(parser.error());
    }
  }

  void Close() {
    if (ssl_) {
      SSL_shutdown(ssl_.get());  // best effort: the answer is already in
    }
  }

 private:
  Status TlsError(const std::string& what) {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    std::string message = what;
    if (code != 0) {
      // The reason string alone ("wrong version number"): it never contains the host.
      const char* reason = ERR_reason_error_string(code);
      if (reason) message += std::string(": ") + reason;
    }
    return Status::Unavailable(message);
  }

  const HttpPostOptions& options_;
  Clock::time_point deadline_;
  Fd fd_;
  std::unique_ptr<SSL_CTX, SslDeleter> ctx_;
  std::unique_ptr<SSL, SslDeleter> ssl_;
};

std::string Base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

Result<HttpResponse> HttpPost(std::string_view url_text, std::string_view body,
                              const HttpPostOptions& options) {
  TANDEM_ASSIGN_OR_RETURN(HttpUrl url, ParseHttpUrl(url_text));
  SigpipeGuard guard;
  Exchange exchange(options);
  TANDEM_RETURN_IF_ERROR(exchange.Connect(url));
  if (url.tls) TANDEM_RETURN_IF_ERROR(exchange.StartTls(url));
  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (url.port != (url.tls ? 443 : 80)) host += ":" + std::to_string(url.port);
  std::string request =
      "POST " + url.target + " HTTP/1.1\r\nHost: " + host +
      "\r\nUser-Agent: tandem/" TANDEM_VERSION "\r\nContent-Type: " + options.content_type +
      "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n";
  if (!url.userinfo.empty()) request += "Authorization: Basic " + Base64(url.userinfo) + "\r\n";
  request += "\r\n";
  request.append(body);
  TANDEM_RETURN_IF_ERROR(exchange.WriteAll(request));
  TANDEM_ASSIGN_OR_RETURN(HttpResponse response, exchange.ReadResponse());
  exchange.Close();
  return response;
}

}  // namespace tandem::notify
