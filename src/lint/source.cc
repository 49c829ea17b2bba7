// Collecting lint input from paths (see source.h).
#include "lint/source.h"

#include <algorithm>
#include <filesystem>

#include "base/parallel_for.h"
#include "base/process.h"
#include "migrate/directives.h"
#include "migrate/layouts.h"

namespace tandem::lint {
namespace {

namespace fs = std::filesystem;

bool IsDownFile(const std::string& name) {
  return name == "down.sql" || name.ends_with(".down.sql") || name.ends_with("_down.sql");
}

bool StartsWithMarker(std::string_view line, std::string_view marker) {
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  return line.substr(i, marker.size()) == marker;
}

// Lint never compares checksums; down files are read to check their syntax.
migrate::LoadOptions LintLoadOptions(std::optional<migrate::Layout> layout) {
  migrate::LoadOptions options;
  options.layout = layout;
  options.checksums = false;
  options.read_down_files = true;
  return options;
}

// Plain .sql files under `dir` (recursively), up files only, sorted by path.
void ListSqlFiles(const fs::path& dir, std::vector<std::string>& out) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string name = it->path().filename().string();
    if (name.ends_with(".sql") && !IsDownFile(name)) out.push_back(it->path().string());
  }
}

// `threads` bounds how many subdirectories load at once: all cores at the top, one below it,
// so a deep tree does not start threads from threads.
void CollectDirectory(const fs::path& dir, std::optional<migrate::Layout> layout,
                      std::vector<LintSequence>& out, int threads) {
  auto set = migrate::LoadMigrations(dir.string(), LintLoadOptions(layout));
  if (set.ok() && !set->migrations.empty()) {
    out.push_back(SequenceFromSet(*set));
    return;
  }
  // Not a migrations directory of its own: subdirectories may be, and loose files are linted
  // as plain SQL in name order.
  std::vector<fs::path> subdirs;
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) subdirs.push_back(it->path());
    std::string name = it->path().filename().string();
    if (it->is_regular_file(ec) && name.ends_with(".sql") && !IsDownFile(name)) {
      files.push_back(it->path().string());
    }
  }
  std::sort(subdirs.begin(), subdirs.end());
  bool diesel_like = std::any_of(subdirs.begin(), subdirs.end(),
                                 [](const fs::path& p) { return fs::exists(p / "up.sql"); });
  if (diesel_like) {
    // A directory of per-migration folders that did not load: plain files in folder order.
    for (const auto& s : subdirs) ListSqlFiles(s, files);
    subdirs.clear();
  }
  std::sort(files.begin(), files.end());
  if (!files.empty()) {
    LintSequence seq;
    for (const auto& f : files) {
      auto unit = PlainFileUnit(f);
      if (unit.ok()) seq.push_back(std::move(*unit));
    }
    out.push_back(std::move(seq));
  }
  // Subdirectories are separate sequences: load them in parallel, keep them in name order.
  std::vector<std::vector<LintSequence>> per_subdir(subdirs.size());
  ParallelFor(subdirs.size(), threads,
              [&](size_t i) { CollectDirectory(subdirs[i], layout, per_subdir[i], 1); });
  for (auto& sequences : per_subdir) {
    for (auto& seq : sequences) out.push_back(std::move(seq));
  }
}

}  // namespace

LintSequence SequenceFromSet(const migrate::MigrationSet& set,
                             const std::vector<std::string>* only) {
  LintSequence seq;
  for (const auto& m : set.migrations) {
    bool report = !only || std::find(only->begin(), only->end(), m.version) != only->end();
    seq.push_back(UnitFromMigration(m, report));
  }
  return seq;
}

Result<LintUnit> PlainFileUnit(const std::string& path) {
  TANDEM_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  migrate::DirectiveScanner scanner(path);
  LintUnit unit;
  unit.info.file = path;
  size_t up_start = 0, up_end = text.size();
  int up_line = 1;
  bool in_down = false;
  int line_number = 0;
  for (size_t pos = 0; pos <= text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    ++line_number;
    if (StartsWithMarker(line, "-- migrate:up") || StartsWithMarker(line, "-- +goose Up")) {
      up_start = nl + 1 > text.size() ? text.size() : nl + 1;
      up_line = line_number + 1;
    } else if (StartsWithMarker(line, "-- migrate:down") ||
               StartsWithMarker(line, "-- +goose Down")) {
      if (!in_down) up_end = pos;
      in_down = true;
    } else if (!in_down && migrate::IsDirectiveLine(line)) {
      // Malformed directives are the loader's business; lint keeps going with the rest.
      (void)scanner.AddLine(line, line_number);
    } else if (!in_down) {
      (void)scanner.AddLine(line, line_number);
    }
    if (nl >= text.size()) break;
    pos = nl + 1;
  }
  migrate::FileDirectives directives = std::move(scanner).Finish();
  migrate::Migration m;
  (void)migrate::ApplyDirectives(directives, /*up_file=*/true, m);
  unit.info.phase = m.phase;
  unit.info.transactional = m.transactional;
  unit.file_allows = m.file_allows;
  unit.statement_allows = directives.statement_allows;
  if (up_end < up_start) up_end = text.size();
  unit.text = text.substr(up_start, up_end - up_start);
  unit.text_line = up_line;
  return unit;
}

Result<std::vector<LintSequence>> CollectPaths(const std::vector<std::string>& paths,
                                               std::optional<migrate::Layout> layout) {
  std::vector<LintSequence> out;
  for (const auto& path : paths) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      return Status::InvalidInput("could not lint \"" + path + "\": no such file or directory");
    }
    if (fs::is_directory(path, ec)) {
      CollectDirectory(path, layout, out, /*threads=*/0);
      continue;
    }
    // A file: lint it in the context of its directory, so earlier migrations feed the schema.
    fs::path file = fs::absolute(path, ec).lexically_normal();
    fs::path dir = file.parent_path();
    if (file.filename() == "up.sql") dir = dir.parent_path();  // Diesel
    auto set = migrate::LoadMigrations(dir.string(), LintLoadOptions(layout));
    bool found = false;
    if (set.ok()) {
      for (const auto& m : set->migrations) {
        for (const auto& p : m.paths) {
          if (fs::absolute(p, ec).lexically_normal() == file) {
            std::vector<std::string> only = {m.version};
            LintSequence seq = SequenceFromSet(*set, &only);
            // Later migrations do not matter to this one.
            while (!seq.empty() && !seq.back().report) seq.pop_back();
            for (auto& u : seq) {
              if (u.report) u.info.file = path;
            }
            out.push_back(std::move(seq));
            found = true;
            break;
          }
        }
        if (found) break;
      }
    }
    if (!found) {
      TANDEM_ASSIGN_OR_RETURN(LintUnit unit, PlainFileUnit(path));
      out.push_back({std::move(unit)});
    }
  }
  return out;
}

}  // namespace tandem::lint
