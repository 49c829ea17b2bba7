// Starting child processes: the embedded PostgreSQL, and the real `tandem` binary in tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace tandem {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is an absolute path or found on PATH
  std::vector<std::string> env;   // extra NAME=value entries
  std::string working_directory;  // empty: inherit
  std::string output_path;        // stdout and stderr go here; empty: inherit
  std::string input_path;         // stdin; empty: /dev/null
  std::optional<uid_t> uid;       // drop to this user (when running as root)
  std::optional<gid_t> gid;
  bool new_session = false;     // setsid(): survive the terminal and our exit
  int parent_death_signal = 0;  // sent to the child if we die first (0: none)
};

Result<pid_t> Spawn(const SpawnOptions& options);

// Waits for the child and returns its exit code (128 + signal when killed).
Result<int> WaitForExit(pid_t pid);

// Non-blocking: the exit code if the child has exited, nullopt if it still runs.
std::optional<int> PollExit(pid_t pid);

struct ProcessOutput {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs to completion, capturing stdout and stderr separately.
Result<ProcessOutput> RunAndCapture(const std::vector<std::string>& argv,
                                    const std::vector<std::string>& env = {},
                                    const std::string& working_directory = "",
                                    const std::string& stdin_text = "");

// Reads a whole file; kInvalidInput when it cannot be read.
Result<std::string> ReadFile(const std::string& path);
Status WriteFile(const std::string& path, const std::string& contents);

}  // namespace tandem
