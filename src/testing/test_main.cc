// The test binary's main: stops the shared PostgreSQL on exit and on SIGINT/SIGTERM.
#include <gtest/gtest.h>

#include "pg/embedded_server.h"

int main(int argc, char** argv) {
  tandem::pg::InstallServerCleanupOnSignals();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
