// A tiny HTTP/1.1 server for tests of what tandem sends (notifications, later the worker's
// callers): it listens on 127.0.0.1 on a free port, records every request, and answers each
// with the next scripted reply (then the default one): a status with headers and a body, or a
// hang that never answers (until the client gives up or the receiver is destroyed).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace tandem::testing {

class HttpReceiver {
 public:
  struct Request {
    std::string method;
    std::string target;                                        // path and query
    std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
    std::string body;
    std::chrono::steady_clock::time_point received;
    std::string Header(const std::string& name) const;  // "" when absent
  };

  struct Reply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body = "ok";
    bool chunked = false;  // send the body with chunked transfer coding
    bool hang = false;     // never answer
  };

  // Starts listening; aborts the test binary if no socket can be had.
  HttpReceiver();
  ~HttpReceiver();
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT" + path.
  std::string Url(const std::string& path) const;

  // Replies for the next requests, in order; afterwards the default reply.
  void Script(std::vector<Reply> replies);
  void SetDefault(Reply reply);

  std::vector<Request> Requests() const;
  // Waits until at least `count` requests have been received; false on timeout.
  bool WaitForRequests(size_t count, std::chrono::milliseconds timeout) const;

 private:
  void Serve();
  void Handle(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable received_;
  std::deque<Reply> script_;
  Reply default_reply_;
  std::vector<Request> requests_;
  std::vector<std::thread> handlers_;  // guarded by mutex_
  std::thread server_;
};

}  // namespace tandem::testing
