#include "base/duration.h"

#include <cctype>
#include <cstdio>

namespace tandem {

Result<Duration> ParseDuration(std::string_view text) {
  auto invalid = [&] {
    return Status::InvalidInput("invalid duration \"" + std::string(text) + "\"")
        .WithHint("write a number followed by ms, s, min (or m) or h, for example 500ms or 10min");
  };
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  size_t digits_start = i;
  double value = 0;
  bool seen_digit = false, seen_dot = false;
  double fraction_scale = 0.1;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      seen_digit = true;
      if (seen_dot) {
        value += (c - '0') * fraction_scale;
        fraction_scale /= 10;
      } else {
        value = value * 10 + (c - '0');
      }
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      break;
    }
  }
  if (!seen_digit || i == digits_start) return invalid();
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  std::string unit(text.substr(i));
  while (!unit.empty() && std::isspace(static_cast<unsigned char>(unit.back()))) unit.pop_back();
  double ms;
  if (unit.empty() || unit == "ms") {
    ms = value;
  } else if (unit == "s" || unit == "sec" || unit == "secs") {
    ms = value * 1000;
  } else if (unit == "m" || unit == "min" || unit == "mins") {
    ms = value * 60'000;
  } else if (unit == "h" || unit == "hour" || unit == "hours") {
    ms = value * 3'600'000;
  } else {
    return invalid();
  }
  // Checked as a double, before the cast: a value beyond int64 would otherwise wrap negative.
  if (!(ms + 0.5 < static_cast<double>(kMaxDuration.count()) + 1)) {
    return Status::InvalidInput("duration \"" + std::string(text) + "\" is too large")
        .WithDetail("the largest duration tandem accepts is " +
                    std::to_string(kMaxDuration.count()) +
                    "ms (about 24.8 days), PostgreSQL's limit for lock_timeout and "
                    "statement_timeout")
        .WithHint("use at most 596h");
  }
  return Duration(static_cast<int64_t>(ms + 0.5));
}

std::string ToPostgresInterval(Duration d) { return std::to_string(d.count()) + "ms"; }

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  char buf[64];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%.1fs", ms / 1000.0);
  } else {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(ms / 60'000),
                  static_cast<long long>((ms % 60'000) / 1000));
  }
  return buf;
}

}  // namespace tandem
