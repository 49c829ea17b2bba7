#include "base/keep_until_exit.h"

#include <mutex>
#include <vector>

namespace tandem::internal {

void RecordKept(const void* object) {
  // Never destroyed either: destroying the list at exit would not free what it points to.
  static auto* kept = new std::vector<const void*>;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  kept->push_back(object);
}

}  // namespace tandem::internal
