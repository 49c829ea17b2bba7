// The lint gate `tandem release` calls before applying pre-deploy migrations: lints the
// pending pre-deploy migrations (with every earlier migration replayed into the schema model)
// and says whether release must refuse. Findings allowed with a reason never block.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "config/config.h"
#include "lint/finding.h"
#include "migrate/migration.h"

namespace tandem::lint {

struct GateOptions {
  // The server's version when release is connected (ServerVersion in catalog.h); falls back
  // to tandem.toml's [lint] pg_version, then 15.
  std::optional<PgVersion> server_version;
};

// Lints the migrations of `set` whose versions are in `pending_versions` and whose phase is
// pre-deploy; the other migrations are replayed for the schema model only. Fails with
// kInvalidInput only for a bad [lint] configuration; check LintReport::HasErrors() to decide
// whether to refuse (exit 1), and print the findings with lint/report.h.
Result<LintReport> LintPendingPreDeploy(const migrate::MigrationSet& set,
                                        const std::vector<std::string>& pending_versions,
                                        const config::Config& config,
                                        const GateOptions& options = {});

}  // namespace tandem::lint
