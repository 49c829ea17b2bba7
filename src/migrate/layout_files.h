// Internal to the migration loader (layouts.cc, layout_names.cc, layout_sections.cc): which
// directory entries are migrations of which layout, and how one file's text becomes sections,
// settings and a checksum. Nothing here calls the SQL parser.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "migrate/migration.h"

namespace tandem::migrate::layout {

// The files of one migrations directory, read through a descriptor of the directory. Loading
// 10,000 migrations is mostly system calls: openat() spares the kernel a walk of the whole path
// per file, and one fstat() and read() replace ReadFile's stream copies (together about half
// the load time).
class DirectoryFiles {
 public:
  // kInvalidInput when the directory cannot be opened.
  static Result<DirectoryFiles> Open(const std::string& directory);
  DirectoryFiles(DirectoryFiles&& other) noexcept;
  DirectoryFiles& operator=(DirectoryFiles&&) = delete;
  ~DirectoryFiles();

  // The contents of `relative` (to the directory); kInvalidInput "could not read "<path>":
  // <reason>", as ReadFile.
  Result<std::string> Read(const std::string& relative) const;
  bool Exists(const std::string& relative) const;

 private:
  DirectoryFiles(int fd, std::string directory) : fd_(fd), directory_(std::move(directory)) {}
  int fd_ = -1;
  std::string directory_;
};

enum class FileRole {
  kSections,  // one file holding up and down sections (tandem/dbmate, goose)
  kUp,        // the up file of a multi-file layout (or a Diesel directory)
  kDown,
};

// What a directory entry's name says.
struct EntryName {
  // kTandem also stands for goose: the two share a name form and differ only in content.
  Layout layout = Layout::kTandem;
  FileRole role = FileRole::kSections;
  std::string entry;    // the base name, e.g. "20240101_add_users.up.sql" or a Diesel directory
  std::string version;  // digits, or digits and dots (Flyway)
  std::string name;
  // golang-migrate variants as ory/pop writes them (kratos), "<v>_<name>[.<dialect>]
  // [.autocommit].up.sql": a PostgreSQL-specific file wins over the generic one of its
  // version, files for other databases are skipped, autocommit runs outside a transaction.
  bool postgres_specific = false;
  bool other_dialect = false;
  bool autocommit = false;
  bool repeatable = false;  // Flyway R__<name>.sql, refused by the loader
};

// nullopt when `entry` is not a migration file or directory name of any layout (README.md,
// schema.sql, .keep). A directory is matched by its name alone; the caller checks that it
// holds an up.sql or down.sql.
std::optional<EntryName> MatchEntry(std::string_view entry, bool directory);

// A .sql file named like a migration (it starts with a digit, or V/U/B and a digit) that
// matched no layout, e.g. "123.sql" or "V1_x.sql": refused rather than silently skipped.
bool LooksLikeMigration(std::string_view entry);

// How the layout names its files, for hints: "<version>_<name>.sql".
std::string LayoutPattern(Layout layout);

// Which section markers a tandem-or-goose file holds, found by a line scan.
struct Markers {
  bool migrate_up = false;  // -- migrate:up
  bool goose_up = false;    // -- +goose Up
};
Markers FindMarkers(std::string_view text);

// Cuts a file with section markers (layout kTandem: dbmate's; kGoose: goose's) into up and
// down sections and applies its directives and marker options. `text` is normalised.
Status ReadSectionedFile(Layout layout, const std::string& path, std::string_view text,
                         Migration& migration);

// One whole file as the up (or down) section of a multi-file layout, with its directives.
Status ReadWholeFile(const std::string& path, std::string_view text, bool up, Migration& migration);

// Sets up_checksum, down_checksum and checksum from the up and down parts of the migration's
// normalised text (`down` empty: no down part).
void SetChecksums(Migration& migration, std::string_view up, std::string_view down);
// The same for a file with sections: the down part runs from the down marker to the end. Also
// sets legacy_checksum (the whole file's).
void SetSectionedChecksums(Migration& migration, std::string_view text);

// The checksum tandem recorded before up and down were checksummed apart (legacy_checksum) over
// a migration's files (paths and normalised texts, up first): the SHA-256 of the file for one
// file; otherwise of each file's base name, a NUL byte and its text, concatenated.
std::string Checksum(const std::vector<std::string>& paths, const std::vector<std::string>& texts);

}  // namespace tandem::migrate::layout
