// The tandem command line: parses options and dispatches to src/cli/commands.
#include <cstdio>

int main(int argc, char** argv) {
  std::puts("tandem");
  return 0;
}
