#include "worker/log.h"

#include <chrono>
#include <ctime>
#include <ostream>

#include "base/printable.h"

namespace tandem::worker {
namespace {

std::string UtcNow() {
  auto now = std::chrono::system_clock::now();
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis % 1000));
  return text;
}

}  // namespace

void Log::Write(std::string_view level, std::string_view message, const nlohmann::json& fields) {
  if (parent_) {
    nlohmann::json merged = fields_;
    for (const auto& [key, value] : fields.items()) merged[key] = value;
    return parent_->Write(level, message, merged);
  }
  std::string line;
  if (json_) {
    nlohmann::json record = {{"at", UtcNow()}, {"level", level}, {"message", message}};
    for (const auto& [key, value] : fields.items()) record[key] = value;
    line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = UtcNow() + " " + std::string(level) + ": " + std::string(message);
    for (const auto& [key, value] : fields.items()) {
      line += " " + key + "=" +
              (value.is_string()
                   ? value.get<std::string>()
                   : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    line = Printable(line);  // control characters from SQL or errors never reach a terminal raw
  }
  std::lock_guard<std::mutex> lock(mutex_);
  out_ << line << "\n";
  out_.flush();
}

}  // namespace tandem::worker
