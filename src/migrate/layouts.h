// Loading a migrations directory in any supported layout into a MigrationSet.
//
//   tandem / dbmate   <version>_<name>.sql with -- migrate:up / -- migrate:down sections
//   golang-migrate    <version>_<name>.up.sql + <version>_<name>.down.sql
//   diesel            <version>_<name>/up.sql + down.sql
//   flyway            V<version>__<name>.sql (version parts separated by _ or .)
//   goose             <version>_<name>.sql with -- +goose Up / -- +goose Down
//
// Errors are kInvalidInput with the file, line and column: an unknown directive or a bad
// directive value, two files with the same version, a file without an up section, a missing
// directory, an unknown layout.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "migrate/migration.h"
#include "sql/parser.h"

namespace tandem::migrate {

struct LoadOptions {
  std::optional<Layout> layout;  // nullopt: detect from the file names
  // False leaves Migration::checksum empty: lint reads SQL, never compares checksums, and
  // hashing every file was a tenth of its run time on a corpus.
  bool checksums = true;
  // False skips the separate down files of multi-file layouts (golang-migrate, Diesel, ...):
  // lint reads only up SQL, and they were half of the files it opened. Their paths stay in
  // Migration::paths; Migration::down is left empty.
  bool read_down_files = true;
  // Threads that read and parse files (0: one per core).
  int threads = 0;
};

// Reads every migration's files, directives and checksum. Does not parse SQL (status over
// 10,000 files must stay fast); call SplitSections before running or linting.
Result<MigrationSet> LoadMigrations(const std::string& directory, const LoadOptions& options = {});

// Splits the up and down sections into statements with the real parser; kInvalidInput with
// the statement's file, line and column on a syntax error. Idempotent.
Status SplitSections(Migration& migration);

// The runner's check of a section's transaction control, shared with lint so that both refuse
// the same files: drops a BEGIN ... COMMIT wrapper around the whole section (tandem runs each
// migration in one transaction already), then refuses any other BEGIN, COMMIT, ROLLBACK or
// SAVEPOINT with kInvalidInput located at the statement (line and column as in `parts`, no
// file).
Status UnwrapTransactionControl(std::vector<sql::SplitStatement>& parts);

}  // namespace tandem::migrate
