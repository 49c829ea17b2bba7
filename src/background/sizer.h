// size=auto: the batch size that makes a batch last about the target duration.
//
// GitLab's optimizer (research C_runners.md §2.5) nudges the size by at most 20% once per job of
// 20 batches, so a migration spends its first hour far from the right size. Here the size is
// corrected after every batch by the ratio of target to measured time, bounded per step (at most
// 4x up, 2x down: a slow batch shrinks the next at once, a fast start grows quickly) and between
// a minimum and maximum. From 1,000 to 100,000 keys takes four batches.
#pragma once

#include "base/duration.h"

namespace tandem::background {

struct SizerSettings {
  Duration target{200};
  long long min_size = 10;
  long long max_size = 2'000'000;
  long long initial = 1000;
};

class Sizer {
 public:
  // `fixed` > 0: size=N, never changed (except halved after a timeout, see Split).
  Sizer(const SizerSettings& settings, long long fixed, long long current);
  long long size() const { return size_; }
  // After a batch of `size()` keys that took `took`.
  void Observe(Duration took);
  // After a batch that timed out: half the size (false when already at the minimum).
  bool Split();

 private:
  SizerSettings settings_;
  bool fixed_ = false;
  long long size_ = 0;
};

}  // namespace tandem::background
