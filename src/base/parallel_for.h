// ParallelFor: the one thread pool shape tandem needs, for work split into independent items.
#pragma once

#include <cstddef>
#include <functional>

namespace tandem {

// Runs body(i) for every i in [0, n) on up to `threads` threads (0: one per core), each
// thread taking the next unclaimed index. Returns when every call has returned.
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& body);

}  // namespace tandem
