// The join with lint: each static finding for a pending migration is marked confirmed or
// refuted by what the shadow observed for its statement. A rule that predicts a rewrite is
// confirmed only when a table's relfilenode changed; one that predicts a scan, only when a
// table was scanned; one that predicts a blocking lock, only when a lock that blocks writes
// was taken on a table that existed before. A refuted finding drops to info and says why
// (an ALTER TYPE that is binary-coercible, an index on a table created in the same
// migration). Rules whose harm is not visible in a trace (drops, renames) stay as lint said.
#pragma once

#include <vector>

#include "lint/finding.h"
#include "verify/report.h"

namespace tandem::verify {

// Lint findings joined with the traces of the migrations they belong to.
std::vector<Finding> JoinLintFindings(const std::vector<lint::Finding>& lint_findings,
                                      const std::vector<MigrationTrace>& traces);

}  // namespace tandem::verify
