// The wait between lock-timeout retries of `tandem release`: exponential, capped, with jitter.
//
// Jitter matters because the usual cause of a lock timeout is one long transaction; when it
// ends, every runner that was waiting on it (one per shard, or replicas of a misconfigured
// init container) would otherwise retry in the same instant and queue behind each other.
#pragma once

#include <cstdint>
#include <random>

#include "base/duration.h"

namespace tandem::release {

struct BackoffSettings {
  Duration initial{200};
  Duration max{10'000};
};

class Backoff {
 public:
  // `seed` 0 picks a random seed (the default for real runs; tests pass a fixed one).
  explicit Backoff(BackoffSettings settings, uint64_t seed = 0);

  // The wait before the next retry: the n-th call's ceiling is initial * 2^(n-1), capped at
  // max; the wait is half the ceiling plus a uniformly random part of the other half ("equal
  // jitter"), so it is never shorter than half the ceiling and never longer than max.
  Duration Next();

  int retries() const { return retries_; }

 private:
  BackoffSettings settings_;
  std::mt19937_64 random_;
  int retries_ = 0;
};

}  // namespace tandem::release
