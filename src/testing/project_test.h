// A test with a project directory beside its database, for tests that drive the real `tandem`
// binary (release, worker, jobs) the way a user does: in the foreground, or started in the
// background to be signalled and killed at chosen moments.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "testing/harness.h"

namespace tandem::testing {

class ProjectTest : public PgTest {
 protected:
  // The environment every run gets: this test's database, and nothing from the caller's
  // (no DATABASE_URL, actor or webhook URL leaking in).
  std::vector<std::string> Env() const;
  // Runs tandem in the project directory and waits for it.
  ProcessOutput Tandem(const std::vector<std::string>& args,
                       const std::vector<std::string>& extra_env = {}) const;
  // Starts tandem in the background; its output goes to `log` in the project directory.
  pid_t Start(const std::vector<std::string>& args, const std::string& log = "worker.log") const;
  // Polls until `sql` (a boolean query) is true; fails the test after `limit`.
  bool WaitFor(const std::string& sql, std::chrono::milliseconds limit = std::chrono::seconds(30));

  TempDir dir_;
};

}  // namespace tandem::testing
