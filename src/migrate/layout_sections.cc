// Cutting one migration file into sections by a line scan: dbmate's `-- migrate:up` /
// `-- migrate:down` markers, goose's `-- +goose Up` / `-- +goose Down` annotations, or the whole
// file for multi-file layouts; plus the file's directives and its checksum.
#include <cctype>

#include "base/sha256.h"
#include "migrate/directives.h"
#include "migrate/layout_files.h"
#include "migrate/line_blanks.h"
#include "sql/parser.h"

namespace tandem::migrate::layout {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Calls fn(line, number, start) for every line of `text`, without its newline; stops at the
// first error.
template <typename F>
Status ForEachLine(std::string_view text, F fn) {
  int number = 1;
  for (size_t start = 0; start < text.size(); ++number) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    TANDEM_RETURN_IF_ERROR(fn(text.substr(start, end - start), number, start));
    start = end + 1;
  }
  return Status::Ok();
}

// dbmate's marker, (?m)^--\s*migrate:up(\s*$|\s+\S+): "--" at column 1, the word, then the end
// of the line or blanks and options. Sets *options_at to where the options may start.
bool MatchMigrateMarker(std::string_view line, std::string_view word, size_t* options_at) {
  if (line.substr(0, 2) != "--") return false;
  size_t i = SkipBlanks(line, 2);
  if (line.compare(i, word.size(), word) != 0) return false;
  i += word.size();
  if (i < line.size() && !IsBlank(line[i])) return false;
  *options_at = i;
  return true;
}

// goose's annotation, "-- +goose <annotation>", or nullopt for any other line.
std::optional<std::string_view> GooseAnnotation(std::string_view line) {
  size_t i = SkipBlanks(line, 0);
  if (line.compare(i, 2, "--") != 0) return std::nullopt;
  i = SkipBlanks(line, i + 2);
  if (line.compare(i, 6, "+goose") != 0) return std::nullopt;
  std::string_view rest = line.substr(SkipBlanks(line, i + 6));
  while (!rest.empty() && IsBlank(rest.back())) rest.remove_suffix(1);
  return rest;
}

struct Marker {
  int line = 0;
  size_t start = 0;    // offset of the marker line
  size_t next = 0;     // offset of the line after it: where the section's text starts
  size_t options = 0;  // offset of dbmate's options
  std::string_view options_text;
};

}  // namespace

Markers FindMarkers(std::string_view text) {
  Markers markers;
  // Look only at lines holding the needle: most of a file is SQL, not comments.
  auto scan = [&](std::string_view needle, auto matches) {
    for (size_t at = text.find(needle); at != std::string_view::npos;
         at = text.find(needle, at + 1)) {
      size_t start = text.rfind('\n', at);
      start = start == std::string_view::npos ? 0 : start + 1;
      size_t end = text.find('\n', at);
      if (matches(text.substr(start, end == std::string_view::npos ? end : end - start))) {
        return true;
      }
    }
    return false;
  };
  markers.migrate_up = scan("migrate:up", [](std::string_view line) {
    size_t options;
    return MatchMigrateMarker(line, "migrate:up", &options);
  });
  markers.goose_up = scan("+goose", [](std::string_view line) {
    auto annotation = GooseAnnotation(line);
    return annotation && EqualsIgnoreCase(*annotation, "up");
  });
  return markers;
}

Status ReadSectionedFile(Layout layout, const std::string& path, std::string_view text,
                         Migration& migration) {
  const bool goose = layout == Layout::kGoose;
  const std::string up_marker = goose ? "-- +goose Up" : "-- migrate:up";
  const std::string down_marker = goose ? "-- +goose Down" : "-- migrate:down";
  std::optional<Marker> up, down;
  bool no_transaction = false;
  DirectiveScanner scanner(path);

  auto found = [&](std::optional<Marker>& slot, const std::string& marker, std::string_view line,
                   int number, size_t start, size_t options) -> Status {
    if (slot) {
      return Status::InvalidInput("more than one \"" + marker + "\" section")
          .WithLocation({path, number, 1})
          .WithDetail("the first starts on line " + std::to_string(slot->line))
          .WithHint(
              "merge the sections, or split the file into two migrations (tandem refuses "
              "what dbmate would apply only partly)");
    }
    Marker m;
    m.line = number;
    m.start = start;
    m.next = std::min(text.size(), start + line.size() + 1);
    m.options = start + options;
    m.options_text = line.substr(options);
    slot = m;
    return Status::Ok();
  };

  TANDEM_RETURN_IF_ERROR(
      ForEachLine(text, [&](std::string_view line, int number, size_t start) -> Status {
        size_t options = 0;
        if (goose) {
          if (auto annotation = GooseAnnotation(line)) {
            if (EqualsIgnoreCase(*annotation, "up")) {
              TANDEM_RETURN_IF_ERROR(found(up, up_marker, line, number, start, line.size()));
            } else if (EqualsIgnoreCase(*annotation, "down")) {
              TANDEM_RETURN_IF_ERROR(found(down, down_marker, line, number, start, line.size()));
            } else if (EqualsIgnoreCase(*annotation, "no transaction")) {
              no_transaction = true;
            } else if (EqualsIgnoreCase(*annotation, "statementbegin")) {
              // Transparent to allow attachment: `-- tandem:allow` may stand above it.
              return Status::Ok();
            } else if (!EqualsIgnoreCase(*annotation, "statementend") &&
                       !EqualsIgnoreCase(*annotation, "envsub on") &&
                       !EqualsIgnoreCase(*annotation, "envsub off")) {
              // A typo such as "Dwon" would otherwise run the down section as part of the up.
              return Status::InvalidInput("unknown goose annotation \"+goose " +
                                          std::string(*annotation) + "\"")
                  .WithLocation({path, number, static_cast<int>(line.find("+goose")) + 1})
                  .WithHint("use Up, Down, StatementBegin, StatementEnd or NO TRANSACTION");
            }
          }
        } else if (MatchMigrateMarker(line, "migrate:up", &options)) {
          TANDEM_RETURN_IF_ERROR(found(up, up_marker, line, number, start, options));
        } else if (MatchMigrateMarker(line, "migrate:down", &options)) {
          TANDEM_RETURN_IF_ERROR(found(down, down_marker, line, number, start, options));
        }
        return scanner.AddLine(line, number);
      }));

  if (!up) {
    std::string hint = "start the migration's SQL with a \"" + up_marker + "\" line";
    Markers markers = FindMarkers(text);
    if (!goose && markers.goose_up) hint = "this is a goose file: pass --layout goose";
    if (goose && markers.migrate_up) hint = "this is a dbmate file: pass --layout tandem";
    return Status::InvalidInput("file has no up section").WithLocation({path}).WithHint(hint);
  }
  if (down && down->line < up->line) {
    return Status::InvalidInput("down section before the up section")
        .WithLocation({path, down->line, 1})
        .WithHint("put the \"" + down_marker + "\" section after the \"" + up_marker +
                  "\" section");
  }
  // Like dbmate, nothing but comments may stand before the up section: SQL there would belong
  // to no section and silently never run.
  size_t first = sql::SkipBlankAndComments(text.substr(0, up->start), 0);
  if (first < up->start) {
    sql::LineColumn at = sql::LineColumnAt(text, first);
    return Status::InvalidInput("SQL before the up section")
        .WithLocation({path, at.line, at.column})
        .WithHint("move it below the \"" + up_marker + "\" line, or comment it out");
  }

  auto fill = [&](Section& section, const Marker& marker, size_t end) {
    section.present = true;
    section.location = {path, marker.line, 1};
    section.path = path;
    section.text = std::string(text.substr(marker.next, end - marker.next));
    section.text_offset = marker.next;
    section.marker_offset = marker.start;
    section.text_line = marker.line + 1;
  };
  fill(migration.up, *up, down ? down->start : text.size());
  if (down) fill(migration.down, *down, text.size());

  if (!goose) {
    bool transactional = true;
    auto column = [](const Marker& m) { return static_cast<int>(m.options - m.start) + 1; };
    TANDEM_RETURN_IF_ERROR(
        ApplyMarkerOptions(up->options_text, {path, up->line, column(*up)}, &transactional));
    if (down) {
      // One transaction mode per migration: transaction:false on either marker turns it off.
      TANDEM_RETURN_IF_ERROR(ApplyMarkerOptions(down->options_text,
                                                {path, down->line, column(*down)}, &transactional));
    }
    migration.transactional = migration.transactional && transactional;
  }
  if (no_transaction) migration.transactional = false;

  FileDirectives directives = std::move(scanner).Finish();
  TANDEM_RETURN_IF_ERROR(ApplyDirectives(directives, true, migration));
  for (StatementAllow& allow : directives.statement_allows) {
    if (down && allow.line > down->line) {
      migration.down.statement_allows.push_back(std::move(allow));
    } else if (allow.line > up->line) {
      migration.up.statement_allows.push_back(std::move(allow));
    } else {
      migration.file_allows.push_back(std::move(allow.allow));
    }
  }
  return Status::Ok();
}

Status ReadWholeFile(const std::string& path, std::string_view text, bool up,
                     Migration& migration) {
  Section& section = up ? migration.up : migration.down;
  section.present = true;
  section.location = {path, 1, 1};
  section.path = path;
  section.text = std::string(text);
  section.text_offset = 0;
  section.text_line = 1;
  DirectiveScanner scanner(path);
  TANDEM_RETURN_IF_ERROR(
      ForEachLine(text, [&](std::string_view line, int number, size_t) -> Status {
        return scanner.AddLine(line, number);
      }));
  FileDirectives directives = std::move(scanner).Finish();
  TANDEM_RETURN_IF_ERROR(ApplyDirectives(directives, up, migration));
  section.statement_allows = std::move(directives.statement_allows);
  return Status::Ok();
}

void SetChecksums(Migration& migration, std::string_view up, std::string_view down) {
  migration.up_checksum = Sha256Hex(up);
  migration.down_checksum = down.empty() ? "" : Sha256Hex(down);
  migration.checksum = migration.up_checksum;
  if (!migration.down_checksum.empty()) migration.checksum += "/" + migration.down_checksum;
}

void SetSectionedChecksums(Migration& migration, std::string_view text) {
  size_t down = migration.down.present ? migration.down.marker_offset : text.size();
  SetChecksums(migration, text.substr(0, down), text.substr(down));
  // Without a down section the legacy checksum is the whole file's, which is up_checksum.
  migration.legacy_checksum = down < text.size() ? Sha256Hex(text) : migration.up_checksum;
}

std::string Checksum(const std::vector<std::string>& paths, const std::vector<std::string>& texts) {
  if (texts.size() == 1) return Sha256Hex(texts.front());
  // Each file is framed by its base name and a NUL byte (which no name contains), so that
  // moving a line from the up file to the down file, or renaming one, changes the checksum.
  std::string framed;
  for (size_t i = 0; i < paths.size(); ++i) {
    size_t slash = paths[i].rfind('/');
    framed += slash == std::string::npos ? paths[i] : paths[i].substr(slash + 1);
    framed.push_back('\0');
    framed += texts[i];
  }
  return Sha256Hex(framed);
}

}  // namespace tandem::migrate::layout
