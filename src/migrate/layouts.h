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
  // False skips the separate down files of multi-file layouts (golang-migrate, Diesel, ...),
  // for readers of up SQL only (half of the files otherwise). Their paths stay in
  // Migration::paths; Migration::down is left empty. Lint reads them: it checks their syntax.
  bool read_down_files = true;
  // Threads that read and parse files (0: one per core).
  int threads = 0;
};

// Reads every migration's files, directives and checksum. Does not parse SQL (status over
// 10,000 files must stay fast); call SplitSections before running or linting.
Result<MigrationSet> LoadMigrations(const std::string& directory, const LoadOptions& options = {});

// Splits the up section into statements with the real parser; kInvalidInput with the
// statement's file, line and column on a syntax error, a psql meta-command or inline COPY rows
// without their `\.` line. Idempotent. Applying never runs a down section, so a down section
// that does not parse does not stop `up` (as with Diesel, which never reads down.sql to apply).
Status SplitSections(Migration& migration);
// The same for the down section: before reverting (`tandem down`) and for lint.
Status SplitDownSection(Migration& migration);

// The hint for a migration without a down section, in its layout's terms: the
// "-- migrate:down" marker, goose's "-- +goose Down", a <version>_<name>.down.sql file, Diesel's
// down.sql, Flyway's U<version>__<name>.sql.
std::string DownSectionHint(Layout layout, const Migration& migration);

// The runner's check of a section's transaction control, shared with lint so that both refuse
// the same files: drops a BEGIN ... COMMIT wrapper around the whole section (tandem runs each
// migration in one transaction already), then refuses any other BEGIN, COMMIT, ROLLBACK or
// SAVEPOINT with kInvalidInput located at the statement (line and column as in `parts`, no
// file).
Status UnwrapTransactionControl(std::vector<sql::SplitStatement>& parts);

}  // namespace tandem::migrate
