// SIGINT and SIGTERM as a request to stop, not a sudden death.
//
// Kubernetes sends SIGTERM to every pod it evicts and waits a grace period before SIGKILL; a
// person presses Ctrl-C. Either way a migration in flight should end the way a failure does:
// its statement cancelled on the server (not left running without a client), the outcome
// recorded in the history, the report printed and flushed. So the signals are handled on a
// dedicated thread. Outside a Graceful scope a signal runs the exit hooks (stopping embedded
// servers) and exits at once with 128 + the signal, as before. Inside one, the first signal
// marks the process interrupted and runs the cancel hooks (which send the server a cancel
// request for the running statement); the main thread sees the cancelled statement fail,
// records it and returns normally. If it has not exited within the grace period, or a second
// signal arrives, the exit hooks run and the process exits 128 + the signal.
#pragma once

#include <functional>

#include "base/duration.h"

namespace tandem::interrupt {

// Call from main before any thread starts: blocks SIGINT and SIGTERM in the calling thread
// (and so in every thread it starts) and handles them on a dedicated thread. Idempotent.
void Install();

// The signal that interrupted the process, 0 while none has.
int Signal();
inline bool Requested() { return Signal() != 0; }
// "SIGTERM", "SIGINT", or "signal N".
const char* SignalName(int signal);

// Waits up to `duration`; returns false at once when interrupted (before or during the wait).
bool SleepFor(Duration duration);

// While alive, a signal asks the work to stop instead of killing the process.
class Graceful {
 public:
  explicit Graceful(Duration grace = Duration(20'000));
  ~Graceful();
  Graceful(const Graceful&) = delete;
  Graceful& operator=(const Graceful&) = delete;
};

// Runs `on_interrupt` (on the signal thread) when a signal arrives while the hook is alive,
// or at once if one already has. It must be thread-safe: it runs beside the main thread.
class CancelHook {
 public:
  explicit CancelHook(std::function<void()> on_interrupt);
  ~CancelHook();
  CancelHook(const CancelHook&) = delete;
  CancelHook& operator=(const CancelHook&) = delete;

 private:
  int id_;
};

// Runs before the process exits on a signal without returning through main (outside a
// Graceful scope, after the grace period, on a second signal). For cleanup that must not be
// skipped, such as stopping an embedded PostgreSQL.
void AddExitHook(std::function<void()> hook);

// Tests: behave as if `signal` had arrived (the cancel hooks run on the calling thread), and
// forget it again.
void SimulateForTesting(int signal);
void ResetForTesting();

}  // namespace tandem::interrupt
