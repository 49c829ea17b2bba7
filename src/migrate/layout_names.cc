// How each layout names its migration files and directories, read without regular expressions
// (std::regex costs more than reading the file when `tandem status` lists 10,000 of them).
#include <cctype>

#include "migrate/layout_files.h"
#include "migrate/layouts.h"

namespace tandem::migrate::layout {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Strips `.<word>` from the end of `name` when word is one of `words`.
bool StripQualifier(std::string_view& name, std::initializer_list<std::string_view> words,
                    std::string_view* which = nullptr) {
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string_view word = name.substr(dot + 1);
  for (std::string_view w : words) {
    if (word == w) {
      if (which) *which = word;
      name = name.substr(0, dot);
      return true;
    }
  }
  return false;
}

// "<v>_<name>/" (Diesel): the version is the part before the first '_' with its dashes
// removed, as Diesel records it ("2019-01-01-000000_x" is "20190101000000").
std::optional<EntryName> MatchDieselDirectory(std::string_view entry) {
  if (entry.empty() || !IsDigit(entry[0])) return std::nullopt;
  size_t underscore = entry.find('_');
  if (underscore == std::string_view::npos) return std::nullopt;
  EntryName e;
  for (char c : entry.substr(0, underscore)) {
    if (IsDigit(c)) {
      e.version.push_back(c);
    } else if (c != '-') {
      return std::nullopt;
    }
  }
  e.layout = Layout::kDiesel;
  e.role = FileRole::kUp;
  e.entry = std::string(entry);
  e.name = std::string(entry.substr(underscore + 1));
  return e;
}

// "V<version>__<name>.sql" (and U for undo, R__ for repeatable). Version parts are separated
// by '.' or '_' and are normalised to dots: V1_2__x is version "1.2", as Flyway reads it.
std::optional<EntryName> MatchFlyway(std::string_view entry) {
  std::string_view stem = entry.substr(0, entry.size() - 4);  // without ".sql"
  EntryName e;
  e.layout = Layout::kFlyway;
  e.entry = std::string(entry);
  if (stem.substr(0, 3) == "R__") {
    e.repeatable = true;
    e.role = FileRole::kUp;
    e.name = std::string(stem.substr(3));
    return e;
  }
  if (stem.size() < 2 || (stem[0] != 'V' && stem[0] != 'U') || !IsDigit(stem[1])) {
    return std::nullopt;
  }
  size_t separator = stem.find("__", 1);
  if (separator == std::string_view::npos) return std::nullopt;
  bool part_has_digits = false;
  for (char c : stem.substr(1, separator - 1)) {
    if (IsDigit(c)) {
      e.version.push_back(c);
      part_has_digits = true;
    } else if ((c == '.' || c == '_') && part_has_digits) {
      e.version.push_back('.');
      part_has_digits = false;
    } else {
      return std::nullopt;
    }
  }
  if (!part_has_digits) return std::nullopt;  // "V1.__x": an empty last part
  e.role = stem[0] == 'V' ? FileRole::kUp : FileRole::kDown;
  e.name = std::string(stem.substr(separator + 2));
  return e;
}

}  // namespace

std::optional<EntryName> MatchEntry(std::string_view entry, bool directory) {
  if (entry.empty() || entry[0] == '.') return std::nullopt;
  if (directory) return MatchDieselDirectory(entry);
  if (!EndsWith(entry, ".sql")) return std::nullopt;
  if (!IsDigit(entry[0])) return MatchFlyway(entry);

  // "<digits>_<rest>.sql": tandem/dbmate/goose, or golang-migrate when rest ends in .up/.down.
  size_t digits = 0;
  while (digits < entry.size() && IsDigit(entry[digits])) ++digits;
  if (digits >= entry.size() || entry[digits] != '_') return std::nullopt;
  EntryName e;
  e.entry = std::string(entry);
  e.version = std::string(entry.substr(0, digits));
  std::string_view rest = entry.substr(digits + 1, entry.size() - 4 - (digits + 1));
  if (EndsWith(rest, ".up") || EndsWith(rest, ".down")) {
    e.layout = Layout::kGolangMigrate;
    e.role = EndsWith(rest, ".up") ? FileRole::kUp : FileRole::kDown;
    rest = rest.substr(0, rest.rfind('.'));
    // ory/pop qualifiers, outermost first: "<name>.postgres.autocommit.up.sql".
    e.autocommit = StripQualifier(rest, {"autocommit"});
    std::string_view dialect;
    if (StripQualifier(rest,
                       {"postgres", "postgresql", "cockroach", "cockroachdb", "crdb", "mysql",
                        "mariadb", "sqlite", "sqlite3", "mssql", "sqlserver"},
                       &dialect)) {
      e.postgres_specific = dialect == "postgres" || dialect == "postgresql";
      e.other_dialect = !e.postgres_specific;
    }
  } else {
    e.layout = Layout::kTandem;
    e.role = FileRole::kSections;
  }
  e.name = std::string(rest);
  return e;
}

bool LooksLikeMigration(std::string_view entry) {
  if (!EndsWith(entry, ".sql") || entry.size() < 5) return false;
  if (IsDigit(entry[0])) return true;
  if (entry.substr(0, 3) == "R__") return true;
  return (entry[0] == 'V' || entry[0] == 'U' || entry[0] == 'B') && IsDigit(entry[1]);
}

std::string LayoutPattern(Layout layout) {
  switch (layout) {
    case Layout::kTandem:
      return "<version>_<name>.sql with \"-- migrate:up\" and \"-- migrate:down\" sections";
    case Layout::kGoose:
      return "<version>_<name>.sql with \"-- +goose Up\" and \"-- +goose Down\" sections";
    case Layout::kGolangMigrate:
      return "<version>_<name>.up.sql and <version>_<name>.down.sql";
    case Layout::kDiesel:
      return "<version>_<name>/up.sql and <version>_<name>/down.sql";
    case Layout::kFlyway:
      return "V<version>__<name>.sql and U<version>__<name>.sql";
  }
  return "";
}

}  // namespace tandem::migrate::layout

namespace tandem::migrate {

std::string DownSectionHint(Layout layout, const Migration& migration) {
  using layout::EndsWith;
  const std::string up = migration.paths.empty() ? "" : migration.paths.front();
  std::string what;
  switch (layout) {
    case Layout::kTandem:
      what = "add a \"-- migrate:down\" section at the end of " + up;
      break;
    case Layout::kGoose:
      what = "add a \"-- +goose Down\" section at the end of " + up;
      break;
    case Layout::kGolangMigrate: {
      std::string down = EndsWith(up, ".up.sql")
                             ? up.substr(0, up.size() - 7) + ".down.sql"
                             : migration.version + "_" + migration.name + ".down.sql";
      what = "add the down file " + down;
      break;
    }
    case Layout::kDiesel: {
      size_t slash = up.rfind('/');
      what = "add " + (slash == std::string::npos ? std::string() : up.substr(0, slash + 1)) +
             "down.sql";
      break;
    }
    case Layout::kFlyway: {
      size_t slash = up.rfind('/');
      std::string base = slash == std::string::npos ? up : up.substr(slash + 1);
      std::string dir = slash == std::string::npos ? "" : up.substr(0, slash + 1);
      what = "add the undo file " + dir + (base.empty() ? "U" : "U" + base.substr(1));
      break;
    }
  }
  return what + ", or revert with a new forward migration";
}

}  // namespace tandem::migrate
