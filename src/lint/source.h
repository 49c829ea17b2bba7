// Where lint's input comes from: the configured migrations directory, or the paths given on
// the command line (migration files or directories). A directory tandem can load as a
// migrations directory is linted with its layout, phases and directives; anything else
// (a tree of several projects, files named like no layout) falls back to plain SQL files in
// name order, each with its own `-- tandem:` directives.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "lint/engine.h"
#include "migrate/migration.h"

namespace tandem::lint {

// Every migration of `set` in order; all are reported unless `only` is given, in which case
// the others are replayed into the schema model only.
LintSequence SequenceFromSet(const migrate::MigrationSet& set,
                             const std::vector<std::string>* only = nullptr);

// The sequences for command-line paths. kInvalidInput when a path does not exist.
Result<std::vector<LintSequence>> CollectPaths(const std::vector<std::string>& paths,
                                               std::optional<migrate::Layout> layout);

// One plain SQL file as a migration: directives from its comments, the up section if it has
// dbmate or goose markers, else the whole file.
Result<LintUnit> PlainFileUnit(const std::string& path);

}  // namespace tandem::lint
