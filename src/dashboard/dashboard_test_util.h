// For the dashboard's tests: one HTTP request over a fresh socket to 127.0.0.1, read to its
// end (the server closes every connection after its response), and a reader of the live stream.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "testing/http_request.h"

namespace tandem::dashboard::testing {

using ::tandem::testing::Dial;
using ::tandem::testing::Reply;
using ::tandem::testing::Request;

// An open GET /api/stream: Read() collects what arrives until `needle` is seen or time is up.
class StreamReader {
 public:
  StreamReader(int port, const std::string& path) : fd_(Dial(port)) {
    if (fd_ < 0) return;
    std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    send(fd_, request.data(), request.size(), MSG_NOSIGNAL);
  }
  ~StreamReader() {
    if (fd_ >= 0) close(fd_);
  }
  bool ReadUntil(const std::string& needle, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (received_.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || fd_ < 0) return false;
      pollfd p = {fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buffer[4096];
      ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      received_.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }
  const std::string& received() const { return received_; }

 private:
  int fd_;
  std::string received_;
};

}  // namespace tandem::dashboard::testing
