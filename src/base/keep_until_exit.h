// KeepUntilExit: hands an object to the process, which never destroys it. For a command's
// bulk results just before the process exits: a lint report of thousands of findings and the
// text of every file took longer to free one allocation at a time (4 ms) than the kernel
// takes to reclaim the whole address space. Only for code that runs once per process (a CLI
// command), never in a loop or a library call that a long-lived caller repeats.
#pragma once

#include <utility>

namespace tandem {
namespace internal {
// Records the object in a list reachable until exit, so leak checkers see it as in use.
void RecordKept(const void* object);
}  // namespace internal

template <typename T>
T& KeepUntilExit(T value) {
  T* kept = new T(std::move(value));
  internal::RecordKept(kept);
  return *kept;
}

}  // namespace tandem
