// https:// against a local TLS server whose certificate the test makes: the client must verify
// the chain, check the name (or IP), and send SNI.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include "notify/http_client.h"
#include "testing/harness.h"

namespace tandem::notify {
namespace {

// A self-signed certificate for DNS name "localhost" only (no IP entry).
struct Certificate {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  Certificate() {
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("tandem test"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost"},
                              std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(cert, key, EVP_sha256());
  }
  ~Certificate() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  void WritePem(const std::string& path) const {
    FILE* f = std::fopen(path.c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
  }
};

// Answers every connection's request with 200 over TLS, remembering the SNI name it was sent.
class TlsServer {
 public:
  explicit TlsServer(const Certificate& certificate) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx_, certificate.cert);
    SSL_CTX_use_PrivateKey(ctx_, certificate.key);
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    listen(fd_, 8);
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TlsServer() {
    stopping_ = true;
    thread_.join();
    close(fd_);
    SSL_CTX_free(ctx_);
  }
  int port() const { return port_; }
  std::string sni() {
    std::lock_guard<std::mutex> lock(mutex_);
    return sni_;
  }
  std::string request() {
    std::lock_guard<std::mutex> lock(mutex_);
    return request_;
  }

 private:
  void Serve() {
    while (!stopping_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int client = accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      timeval timeout{2, 0};
      setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, client);
      if (SSL_accept(ssl) == 1) {
        const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        std::string data;
        char buffer[4096];
        int n;
        while (data.find("\r\n\r\n") == std::string::npos &&
               (n = SSL_read(ssl, buffer, sizeof(buffer))) > 0) {
          data.append(buffer, n);
        }
        {
          std::lock_guard<std::mutex> lock(mutex_);
          sni_ = name ? name : "";
          request_ = data;
        }
        std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        SSL_write(ssl, answer.data(), static_cast<int>(answer.size()));
        SSL_shutdown(ssl);
      }
      SSL_free(ssl);
      close(client);
    }
  }

  SSL_CTX* ctx_;
  int fd_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::string sni_, request_;
  std::thread thread_;
};

TEST(HttpClientTlsTest, VerifiesTheCertificateAndSendsTheName) {
  Certificate certificate;
  TlsServer server(certificate);
  testing::TempDir dir;
  std::string ca = (dir.path() / "ca.pem").string();
  certificate.WritePem(ca);
  HttpPostOptions options;
  options.ca_file = ca;
  options.timeout = Duration(5000);

  std::string port = std::to_string(server.port());
  auto response = HttpPost("https://localhost:" + port + "/hooks/SECRET123", "{}", options);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok");
  EXPECT_EQ(server.sni(), "localhost");
  EXPECT_EQ(server.request().rfind("POST /hooks/SECRET123 HTTP/1.1\r\n", 0), 0u);
}

TEST(HttpClientTlsTest, RefusesAnUntrustedCertificate) {
  Certificate certificate;
  TlsServer server(certificate);
  HttpPostOptions options;  // the system's trust store, which does not know this certificate
  options.timeout = Duration(5000);
  auto response = HttpPost(
      "https://localhost:" + std::to_string(server.port()) + "/hooks/SECRET123", "{}", options);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("could not verify the webhook's TLS certificate"),
            std::string::npos)
      << response.status().ToString();
  EXPECT_EQ(response.status().ToString().find("SECRET123"), std::string::npos);
  EXPECT_EQ(response.status().ToString().find("localhost"), std::string::npos);
}

TEST(HttpClientTlsTest, RefusesACertificateForAnotherName) {
  Certificate certificate;  // for "localhost", not for 127.0.0.1
  TlsServer server(certificate);
  testing::TempDir dir;
  std::string ca = (dir.path() / "ca.pem").string();
  certificate.WritePem(ca);
  HttpPostOptions options;
  options.ca_file = ca;
  options.timeout = Duration(5000);
  auto response =
      HttpPost("https://127.0.0.1:" + std::to_string(server.port()) + "/x", "{}", options);
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.status().message().find("mismatch"), std::string::npos)
      << response.status().ToString();
}

}  // namespace
}  // namespace tandem::notify
