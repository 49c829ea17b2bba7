// The cooperative half of signal handling, without sending signals (the real-signal tests run
// the real binary: src/migrate/crash_safety_test.cc).
#include "base/interrupt.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace tandem::interrupt {
namespace {

class InterruptTest : public ::testing::Test {
 protected:
  void TearDown() override { ResetForTesting(); }
};

TEST_F(InterruptTest, SleepForEndsEarlyWhenInterrupted) {
  EXPECT_FALSE(Requested());
  EXPECT_TRUE(SleepFor(Duration(1)));  // not interrupted: the whole wait
  std::thread signaller([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    SimulateForTesting(SIGTERM);
  });
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(SleepFor(Duration(10'000)));
  signaller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(Signal(), SIGTERM);
  EXPECT_STREQ(SignalName(Signal()), "SIGTERM");
  EXPECT_FALSE(SleepFor(Duration(10'000)));  // already interrupted: returns at once
}

TEST_F(InterruptTest, CancelHooksRunWhileAliveAndAtOnceWhenLate) {
  std::atomic<int> runs{0};
  {
    CancelHook hook([&runs] { ++runs; });
    SimulateForTesting(SIGINT);
    EXPECT_EQ(runs, 1);
  }
  ResetForTesting();
  SimulateForTesting(SIGINT);  // the hook is gone: nothing runs
  EXPECT_EQ(runs, 1);
  CancelHook late([&runs] { ++runs; });  // registered after the signal: runs at once
  EXPECT_EQ(runs, 2);
}

}  // namespace
}  // namespace tandem::interrupt
