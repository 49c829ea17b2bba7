// The tandem executable: everything is in the core library; this only hands over argv.
#include <iostream>

#include "cli/context.h"
#include "pg/embedded_server.h"

int main(int argc, char** argv) {
  // Embedded servers (tandem dev --foreground, shadow databases) are stopped on Ctrl-C.
  tandem::pg::InstallServerCleanupOnSignals();
  return tandem::cli::RunCli(argc, argv, std::cout, std::cerr);
}
