#include "base/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace tandem::interrupt {
namespace {

struct State {
  std::mutex mutex;
  std::condition_variable changed;  // a signal arrived (wakes SleepFor and the grace timer)
  std::atomic<int> signal{0};
  int graceful_scopes = 0;
  Duration grace{20'000};
  int next_hook = 0;
  std::map<int, std::function<void()>> cancel_hooks;
  std::vector<std::function<void()>> exit_hooks;
};

State& Global() {
  static State* state = new State();  // never destroyed: the signal thread may outlive main
  return *state;
}

[[noreturn]] void ExitNow(int sig) {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard<std::mutex> lock(Global().mutex);
    hooks = Global().exit_hooks;
  }
  for (auto& hook : hooks) hook();
  _exit(128 + sig);
}

// Marks the process interrupted and runs the cancel hooks; returns whether a Graceful scope
// was alive (else the caller exits at once).
bool Interrupt(int sig) {
  State& state = Global();
  bool graceful;
  {
    // The hooks run under the mutex so that a hook's owner (a connection) cannot be
    // destroyed while its hook runs: ~CancelHook waits for the mutex.
    std::lock_guard<std::mutex> lock(state.mutex);
    state.signal = sig;
    graceful = state.graceful_scopes > 0;
    if (graceful)
      for (auto& [id, hook] : state.cancel_hooks) hook();
  }
  state.changed.notify_all();
  return graceful;
}

void WatchSignals(sigset_t set) {
  int sig = 0;
  sigwait(&set, &sig);
  if (!Interrupt(sig)) ExitNow(sig);
  // Interrupted inside a Graceful scope: the main thread is winding down. Exit anyway on a
  // second signal or when the grace period runs out.
  Duration grace;
  {
    std::lock_guard<std::mutex> lock(Global().mutex);
    grace = Global().grace;
  }
  std::thread([sig, grace] {
    std::this_thread::sleep_for(grace);
    ExitNow(sig);
  }).detach();
  int second = 0;
  sigwait(&set, &second);
  ExitNow(second);
}

}  // namespace

void Install() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::thread(WatchSignals, set).detach();
  });
}

int Signal() { return Global().signal.load(); }

const char* SignalName(int signal) {
  switch (signal) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGQUIT:
      return "SIGQUIT";
    default:
      return "a signal";
  }
}

bool SleepFor(Duration duration) {
  State& state = Global();
  std::unique_lock<std::mutex> lock(state.mutex);
  return !state.changed.wait_for(lock, duration, [&] { return state.signal.load() != 0; });
}

Graceful::Graceful(Duration grace) {
  std::lock_guard<std::mutex> lock(Global().mutex);
  ++Global().graceful_scopes;
  Global().grace = grace;
}

Graceful::~Graceful() {
  std::lock_guard<std::mutex> lock(Global().mutex);
  --Global().graceful_scopes;
}

CancelHook::CancelHook(std::function<void()> on_interrupt) {
  bool already;
  {
    std::lock_guard<std::mutex> lock(Global().mutex);
    id_ = Global().next_hook++;
    Global().cancel_hooks.emplace(id_, on_interrupt);
    already = Global().signal != 0;
  }
  if (already) on_interrupt();
}

CancelHook::~CancelHook() {
  std::lock_guard<std::mutex> lock(Global().mutex);
  Global().cancel_hooks.erase(id_);
}

void AddExitHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(Global().mutex);
  Global().exit_hooks.push_back(std::move(hook));
}

void SimulateForTesting(int signal) {
  State& state = Global();
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    state.signal = signal;
    for (auto& [id, hook] : state.cancel_hooks) hook();
  }
  state.changed.notify_all();
}

void ResetForTesting() {
  std::lock_guard<std::mutex> lock(Global().mutex);
  Global().signal = 0;
}

}  // namespace tandem::interrupt
