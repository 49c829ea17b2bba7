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
  // A log that writes through `parent` with `fields` added to every line: a fleet worker gives
  // each database's worker one naming its target, so that its lines say which database.
  Log(Log& parent, nlohmann::json fields)
      : out_(parent.out_), json_(parent.json_), parent_(&parent), fields_(std::move(fields)) {}

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
  Log* parent_ = nullptr;
  nlohmann::json fields_;
  std::mutex mutex_;
};

}  // namespace tandem::worker
