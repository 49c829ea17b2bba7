// The worker's log: one line per event on stderr, readable text by default or JSON lines
// (`--log-format json`) for log collectors. Thread-safe: the worker, the notifier and the HTTP
// server log from their own threads. Nothing secret is passed in (URLs are redacted first).
#pragma once

#include <iosfwd>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>

namespace tandem::worker {

class Log {
 public:
  Log(std::ostream& out, bool json) : out_(out), json_(json) {}

  // level: "info", "warning", "error".
  void Write(std::string_view level, std::string_view message,
             const nlohmann::json& fields = nlohmann::json::object());
  void Info(std::string_view message, const nlohmann::json& fields = nlohmann::json::object()) {
    Write("info", message, fields);
  }
  void Warning(std::string_view message, const nlohmann::json& fields = nlohmann::json::object()) {
    Write("warning", message, fields);
  }
  void Error(std::string_view message, const nlohmann::json& fields = nlohmann::json::object()) {
    Write("error", message, fields);
  }

 private:
  std::ostream& out_;
  bool json_;
  std::mutex mutex_;
};

}  // namespace tandem::worker
