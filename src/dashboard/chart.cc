// The background job's chart: rows per second and batch duration over the progress document's
// history (background/progress.h), drawn as inline SVG (no script, no library).
#include <algorithm>
#include <cstdio>

#include "background/progress.h"
#include "dashboard/html.h"
#include "dashboard/routes.h"

namespace tandem::dashboard::internal {
namespace {

constexpr int kWidth = 320;
constexpr int kHeight = 90;

std::string Polyline(const std::vector<double>& values, double max, const char* css) {
  std::string points;
  size_t n = values.size();
  for (size_t i = 0; i < n; ++i) {
    double x = n == 1 ? 0 : static_cast<double>(i) * kWidth / static_cast<double>(n - 1);
    double y = kHeight - (max > 0 ? values[i] / max * (kHeight - 4) : 0) - 2;
    char buffer[48];
    std::snprintf(buffer, sizeof buffer, "%.1f,%.1f ", x, y);
    points += buffer;
  }
  return "<polyline class=\"" + std::string(css) + "\" fill=\"none\" points=\"" + points + "\"/>";
}

std::string Chart(const char* title, const char* unit, const std::vector<double>& values,
                  const char* css) {
  double max = *std::max_element(values.begin(), values.end());
  std::string label = std::string(title) + " (max " + Thousands(static_cast<long long>(max + 0.5)) +
                      " " + unit + ")";
  return "<figure class=\"chart\"><svg viewBox=\"0 0 " + std::to_string(kWidth) + " " +
         std::to_string(kHeight) + "\" width=\"" + std::to_string(kWidth) + "\" height=\"" +
         std::to_string(kHeight) + "\" role=\"img\" aria-label=\"" + Escape(label) +
         "\"><rect class=\"frame\" x=\"0\" y=\"0\" width=\"" + std::to_string(kWidth) +
         "\" height=\"" + std::to_string(kHeight) + "\" fill=\"none\"/>" +
         Polyline(values, max, css) + "</svg><figcaption>" + Escape(label) +
         "</figcaption></figure>";
}

}  // namespace

std::string ProgressChart(const std::string& progress_json) {
  background::Progress progress = background::ParseProgress(progress_json);
  if (progress.history.size() < 2) {
    return "<p class=\"note\">The chart appears after a few batches.</p>";
  }
  std::vector<double> rate, duration;
  for (const auto& bucket : progress.history) {
    rate.push_back(bucket.busy_ms > 0 ? bucket.rows * 1000.0 / static_cast<double>(bucket.busy_ms)
                                      : 0);
    duration.push_back(bucket.batches > 0 ? static_cast<double>(bucket.busy_ms) /
                                                static_cast<double>(bucket.batches)
                                          : 0);
  }
  std::string span = std::to_string(progress.history.size() * background::kHistorySeconds) + " s";
  return "<div class=\"charts\" data-field=\"chart\">" +
         Chart("rows per second in batches", "rows/s", rate, "rate") +
         Chart("batch duration", "ms", duration, "duration") + "<p class=\"note\">Last " + span +
         ", one point per " + std::to_string(background::kHistorySeconds) + " s.</p></div>";
}

}  // namespace tandem::dashboard::internal
