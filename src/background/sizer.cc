#include "background/sizer.h"

#include <algorithm>

namespace tandem::background {

Sizer::Sizer(const SizerSettings& settings, long long fixed, long long current)
    : settings_(settings), fixed_(fixed > 0) {
  size_ = current > 0 ? current : (fixed > 0 ? fixed : settings.initial);
  if (!fixed_) size_ = std::clamp(size_, settings_.min_size, settings_.max_size);
}

void Sizer::Observe(Duration took) {
  if (fixed_) return;
  double ratio = static_cast<double>(settings_.target.count()) /
                 static_cast<double>(std::max<long long>(took.count(), 1));
  // Within 20% of the target: leave it (timing noise would make it wander).
  if (ratio > 0.8 && ratio < 1.25) return;
  ratio = std::clamp(ratio, 0.5, 4.0);
  auto next = static_cast<long long>(static_cast<double>(size_) * ratio);
  size_ = std::clamp(next, settings_.min_size, settings_.max_size);
}

bool Sizer::Split() {
  long long floor = fixed_ ? 1 : settings_.min_size;
  if (size_ <= floor) return false;
  size_ = std::max(floor, size_ / 2);
  return true;
}

}  // namespace tandem::background
