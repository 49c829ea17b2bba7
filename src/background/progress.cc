#include "background/progress.h"

#include <cmath>

namespace tandem::background {
namespace {

std::string Grouped(long long n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}

std::string Seconds(long long s) {
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m" + std::to_string(s % 60) + "s";
  return std::to_string(s / 3600) + "h" + std::to_string(s % 3600 / 60) + "m";
}

}  // namespace

nlohmann::json ToJson(const Progress& p) {
  nlohmann::json out = {{"key_kind", p.key_kind},
                        {"cursor", p.cursor},
                        {"done", p.done},
                        {"batches", p.batches},
                        {"rows_done", p.rows_done},
                        {"estimated_total", p.estimated_total},
                        {"batch_size", p.batch_size},
                        {"rate", std::round(p.rate * 10) / 10},
                        {"busy_ms", p.busy_ms},
                        {"throttled_ms", p.throttled_ms},
                        {"last_batch_ms", p.last_batch_ms},
                        {"splits", p.splits}};
  out["min"] = p.min ? nlohmann::json(*p.min) : nlohmann::json();
  out["max"] = p.max ? nlohmann::json(*p.max) : nlohmann::json();
  if (!p.throttled_reason.empty()) {
    out["throttled"] = {{"reason", p.throttled_reason}, {"value", p.throttled_value}};
  } else {
    out["throttled"] = nullptr;
  }
  if (auto eta = EtaSeconds(p)) out["eta_seconds"] = *eta;
  if (!p.history.empty()) {
    nlohmann::json history = nlohmann::json::array();
    for (const auto& b : p.history) history.push_back({b.at_ms, b.rows, b.batches, b.busy_ms});
    out["history"] = std::move(history);
  }
  return out;
}

std::string ToText(const Progress& p) { return ToJson(p).dump(); }

Progress ParseProgress(std::string_view text) {
  Progress p;
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return p;
  auto str = [&](const char* key, std::string& out) {
    if (json.contains(key) && json[key].is_string()) out = json[key].get<std::string>();
  };
  auto num = [&](const char* key, long long& out) {
    if (json.contains(key) && json[key].is_number()) out = json[key].get<long long>();
  };
  str("key_kind", p.key_kind);
  str("cursor", p.cursor);
  if (json.contains("done") && json["done"].is_boolean()) p.done = json["done"].get<bool>();
  if (json.contains("min") && json["min"].is_number()) p.min = json["min"].get<long long>();
  if (json.contains("max") && json["max"].is_number()) p.max = json["max"].get<long long>();
  num("batches", p.batches);
  num("rows_done", p.rows_done);
  num("estimated_total", p.estimated_total);
  num("batch_size", p.batch_size);
  if (json.contains("rate") && json["rate"].is_number()) p.rate = json["rate"].get<double>();
  num("busy_ms", p.busy_ms);
  num("throttled_ms", p.throttled_ms);
  num("last_batch_ms", p.last_batch_ms);
  num("splits", p.splits);
  if (json.contains("throttled") && json["throttled"].is_object()) {
    const auto& t = json["throttled"];
    if (t.contains("reason") && t["reason"].is_string()) p.throttled_reason = t["reason"];
    if (t.contains("value") && t["value"].is_string()) p.throttled_value = t["value"];
  }
  if (json.contains("history") && json["history"].is_array()) {
    for (const auto& b : json["history"]) {
      if (!b.is_array() || b.size() != 4) continue;
      bool numbers = true;
      for (const auto& v : b) numbers = numbers && v.is_number_integer();
      if (!numbers) continue;
      p.history.push_back({b[0].get<long long>(), b[1].get<long long>(), b[2].get<long long>(),
                           b[3].get<long long>()});
    }
  }
  return p;
}

void RecordBatch(Progress& p, long long now_ms, long long rows, long long busy_ms) {
  if (p.history.empty() || now_ms - p.history.back().at_ms >= kHistorySeconds * 1000) {
    p.history.push_back({now_ms, 0, 0, 0});
    if (p.history.size() > kHistoryBuckets) p.history.erase(p.history.begin());
  }
  HistoryBucket& bucket = p.history.back();
  bucket.rows += rows;
  bucket.batches += 1;
  bucket.busy_ms += busy_ms;
}

std::optional<long long> EtaSeconds(const Progress& p) {
  if (p.done) return 0;
  if (p.rate <= 0 || p.estimated_total <= 0) return std::nullopt;
  long long left = std::max(0LL, p.estimated_total - p.rows_done);
  return static_cast<long long>(std::ceil(static_cast<double>(left) / p.rate));
}

std::string Summary(const Progress& p) {
  if (p.key_kind.empty()) return "";
  std::string out = Grouped(p.rows_done) + " of ~" + Grouped(p.estimated_total) + " rows";
  if (p.estimated_total > 0) {
    long long percent = std::min(100LL, p.rows_done * 100 / p.estimated_total);
    out += " (" + std::to_string(p.done ? 100 : percent) + "%)";
  }
  if (!p.done) {
    out += ", " + Grouped(static_cast<long long>(p.rate)) + " rows/s";
    if (auto eta = EtaSeconds(p)) out += ", ETA " + Seconds(*eta);
    out += ", batch " + Grouped(p.batch_size);
  }
  if (p.throttled_ms > 0) out += ", throttled " + Seconds(p.throttled_ms / 1000);
  if (!p.throttled_reason.empty()) {
    out += ", throttled now: " + p.throttled_reason + " " + p.throttled_value;
  }
  return out;
}

}  // namespace tandem::background
