// Exponential backoff with equal jitter (see backoff.h).
#include "release/backoff.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace tandem::release {

Backoff::Backoff(BackoffSettings settings, uint64_t seed) : settings_(settings) {
  if (seed == 0) {
    // Two releases started in the same clock tick still differ by pid.
    seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
           (static_cast<uint64_t>(getpid()) << 32) ^ std::random_device{}();
  }
  random_.seed(seed);
  if (settings_.initial <= Duration(0)) settings_.initial = Duration(1);
  if (settings_.max < settings_.initial) settings_.max = settings_.initial;
}

Duration Backoff::Next() {
  ++retries_;
  // Doubling stops once the ceiling reaches max; the shift stays far from overflow.
  long long ceiling = settings_.initial.count();
  for (int i = 1; i < retries_ && ceiling < settings_.max.count(); ++i) ceiling *= 2;
  ceiling = std::min(ceiling, static_cast<long long>(settings_.max.count()));
  long long half = ceiling / 2;
  std::uniform_int_distribution<long long> jitter(0, ceiling - half);
  return Duration(half + jitter(random_));
}

}  // namespace tandem::release
