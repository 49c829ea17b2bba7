#include "testing/http_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace tandem::testing {

namespace {

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t");
  size_t end = text.find_last_not_of(" \t\r");
  return begin == std::string::npos ? "" : text.substr(begin, end - begin + 1);
}

const char* Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

std::string HttpReceiver::Request::Header(const std::string& name) const {
  std::string wanted = Lower(name);
  for (const auto& [key, value] : headers) {
    if (key == wanted) return value;
  }
  return "";
}

HttpReceiver::HttpReceiver() {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) ||
      listen(listen_fd_, 64)) {
    std::perror("HttpReceiver: could not listen on 127.0.0.1");
    std::abort();
  }
  socklen_t length = sizeof(address);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  server_ = std::thread([this] { Serve(); });
}

HttpReceiver::~HttpReceiver() {
  stopping_ = true;
  server_.join();
  std::vector<std::thread> handlers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    handlers.swap(handlers_);
  }
  for (std::thread& t : handlers) t.join();
  close(listen_fd_);
}

std::string HttpReceiver::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void HttpReceiver::Script(std::vector<Reply> replies) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (Reply& r : replies) script_.push_back(std::move(r));
}

void HttpReceiver::SetDefault(Reply reply) {
  std::lock_guard<std::mutex> lock(mutex_);
  default_reply_ = std::move(reply);
}

std::vector<HttpReceiver::Request> HttpReceiver::Requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

bool HttpReceiver::WaitForRequests(size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return received_.wait_for(lock, timeout, [&] { return requests_.size() >= count; });
}

void HttpReceiver::Serve() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard<std::mutex> lock(mutex_);
    handlers_.emplace_back([this, fd] { Handle(fd); });
  }
}

void HttpReceiver::Handle(int fd) {
  std::string data;
  char buffer[8192];
  auto read_more = [&]() {
    while (!stopping_) {
      pollfd p{fd, POLLIN, 0};
      int n = poll(&p, 1, 50);
      if (n == 0) continue;
      if (n < 0) return false;
      ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
      if (got <= 0) return false;
      data.append(buffer, static_cast<size_t>(got));
      return true;
    }
    return false;
  };
  size_t head_end;
  while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
    if (!read_more()) {
      close(fd);
      return;
    }
  }
  Request request;
  std::string head = data.substr(0, head_end);
  size_t line_end = head.find("\r\n");
  std::string request_line = head.substr(0, line_end);
  size_t space1 = request_line.find(' ');
  size_t space2 = request_line.find(' ', space1 + 1);
  request.method = request_line.substr(0, space1);
  request.target = request_line.substr(space1 + 1, space2 - space1 - 1);
  size_t content_length = 0;
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(pos, next - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = Lower(Trim(line.substr(0, colon)));
      std::string value = Trim(line.substr(colon + 1));
      if (name == "content-length") content_length = std::strtoull(value.c_str(), nullptr, 10);
      request.headers.emplace_back(name, value);
    }
    pos = next + 2;
  }
  data.erase(0, head_end + 4);
  while (data.size() < content_length) {
    if (!read_more()) {
      close(fd);
      return;
    }
  }
  request.body = data.substr(0, content_length);
  request.received = std::chrono::steady_clock::now();
  Reply reply;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!script_.empty()) {
      reply = std::move(script_.front());
      script_.pop_front();
    } else {
      reply = default_reply_;
    }
    requests_.push_back(std::move(request));
    received_.notify_all();
  }
  if (reply.hang) {
    // Hold the connection open, answering nothing, until the client leaves or the test ends.
    while (!stopping_) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) > 0 && recv(fd, buffer, sizeof(buffer), 0) <= 0) break;
    }
    close(fd);
    return;
  }
  std::string response = "HTTP/1.1 " + std::to_string(reply.status) + " " + Reason(reply.status) +
                         "\r\nConnection: close\r\n";
  for (const auto& [name, value] : reply.headers) response += name + ": " + value + "\r\n";
  if (reply.chunked) {
    response += "Transfer-Encoding: chunked\r\n\r\n";
    // Two chunks, so the client's chunk loop is exercised.
    size_t half = reply.body.size() / 2;
    auto chunk = [&](const std::string& part) {
      char size[32];
      std::snprintf(size, sizeof(size), "%zx", part.size());
      if (!part.empty()) response += std::string(size) + "\r\n" + part + "\r\n";
    };
    chunk(reply.body.substr(0, half));
    chunk(reply.body.substr(half));
    response += "0\r\n\r\n";
  } else {
    response += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n\r\n" + reply.body;
  }
  send(fd, response.data(), response.size(), MSG_NOSIGNAL);
  shutdown(fd, SHUT_WR);
  close(fd);
}

}  // namespace tandem::testing
