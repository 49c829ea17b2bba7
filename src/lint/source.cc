// Collecting lint input from paths (see source.h).
#include "lint/source.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <unordered_map>
#include <unordered_set>

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

// The loose SQL files of a directory that does not load as a migrations directory, linted
// as one sequence in name order: the files directly in it, and when it holds per-migration
// folders (Diesel-like) every file under them. `subdirs` gets the other subdirectories, each
// a separate sequence.
std::vector<std::string> LooseFiles(const fs::path& dir, std::vector<fs::path>* subdirs) {
  std::vector<fs::path> dirs;
  std::vector<std::string> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) dirs.push_back(it->path());
    std::string name = it->path().filename().string();
    if (it->is_regular_file(ec) && name.ends_with(".sql") && !IsDownFile(name)) {
      files.push_back(it->path().string());
    }
  }
  std::sort(dirs.begin(), dirs.end());
  bool diesel_like = std::any_of(dirs.begin(), dirs.end(),
                                 [](const fs::path& p) { return fs::exists(p / "up.sql"); });
  if (diesel_like) {
    // A directory of per-migration folders that did not load: plain files in folder order.
    for (const auto& s : dirs) ListSqlFiles(s, files);
    dirs.clear();
  }
  std::sort(files.begin(), files.end());
  if (subdirs) *subdirs = std::move(dirs);
  return files;
}

LintSequence PlainSequence(const std::vector<std::string>& files) {
  LintSequence seq;
  for (const auto& f : files) {
    auto unit = PlainFileUnit(f);
    if (unit.ok()) seq.push_back(std::move(*unit));
  }
  return seq;
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
  std::vector<std::string> files = LooseFiles(dir, &subdirs);
  if (!files.empty()) out.push_back(PlainSequence(files));
  // Subdirectories are separate sequences: load them in parallel, keep them in name order.
  std::vector<std::vector<LintSequence>> per_subdir(subdirs.size());
  ParallelFor(subdirs.size(), threads,
              [&](size_t i) { CollectDirectory(subdirs[i], layout, per_subdir[i], 1); });
  for (auto& sequences : per_subdir) {
    for (auto& seq : sequences) out.push_back(std::move(seq));
  }
}

// The absolute, lexically normal form of `path`, by which named files are found. Paths the
// loader builds from a normal directory are normal already: checked without re-splitting.
std::string Normal(const std::string& path) {
  bool normal = !path.empty() && path[0] == '/' && path.find("//") == std::string::npos &&
                path.find("/./") == std::string::npos && path.find("/../") == std::string::npos &&
                !path.ends_with("/.") && !path.ends_with("/..") && path.back() != '/';
  if (normal) return path;
  std::error_code ec;
  return fs::absolute(path, ec).lexically_normal().string();
}

// A directory's own sequence, exactly as linting the directory builds it (without its
// subdirectories' sequences), every unit unreported until a named file marks it. Files named
// on the command line are looked up here, so that a file list and its directory give the
// same findings, and each directory is loaded and its history parsed once per run however
// many of its files are named.
struct DirectoryContext {
  LintSequence units;
  std::unordered_map<std::string, size_t> up_files;  // normalised path -> unit
  // The other files of loaded migrations (down files): part of a migration lint judges by
  // its up section, so naming one adds nothing.
  std::unordered_set<std::string> other_files;
  size_t last_named = 0;  // 1 + the last named unit; 0: none
  size_t order = 0;       // when it was first needed, for a stable output order
};

// `loose`: a directory that does not load contributes its loose files, as when it is linted
// itself. Off for the folder above a Diesel up.sql, which may be any directory (/tmp): naming
// /tmp/x/up.sql must not read every .sql file under /tmp.
DirectoryContext LoadContext(const fs::path& dir, bool loose,
                             std::optional<migrate::Layout> layout) {
  DirectoryContext context;
  auto set = migrate::LoadMigrations(dir.string(), LintLoadOptions(layout));
  if (set.ok() && !set->migrations.empty()) {
    context.units = SequenceFromSet(*set, /*only=*/nullptr);
    for (size_t i = 0; i < set->migrations.size(); ++i) {
      const auto& paths = set->migrations[i].paths;
      context.units[i].report = false;
      for (size_t p = 0; p < paths.size(); ++p) {
        if (p == 0) {
          context.up_files.emplace(Normal(paths[p]), i);
        } else {
          context.other_files.insert(Normal(paths[p]));
        }
      }
    }
    return context;
  }
  if (!loose) return context;
  std::vector<std::string> files = LooseFiles(dir, nullptr);
  for (const auto& f : files) {
    auto unit = PlainFileUnit(f);
    if (!unit.ok()) continue;
    unit->report = false;
    context.up_files.emplace(Normal(f), context.units.size());
    context.units.push_back(std::move(*unit));
  }
  return context;
}

// A Diesel migration folder named on its own: it holds up.sql and does not load as a
// migrations directory itself. It is linted as its up.sql, in its parent's history.
bool IsMigrationFolder(const fs::path& dir, std::optional<migrate::Layout> layout) {
  std::error_code ec;
  if (!fs::is_regular_file(dir / "up.sql", ec)) return false;
  auto set = migrate::LoadMigrations(dir.string(), LintLoadOptions(layout));
  return !set.ok() || set->migrations.empty();
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
  if (m.batch) unit.info.batch_key_columns = BatchKeyColumns(m.batch->key);
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
  // Files are gathered first and linted in the history of their directory; directories are
  // collected whole. Output order does not matter: the report sorts findings by position.
  struct NamedFile {
    std::string given;  // as written on the command line: findings name it so
    fs::path file;      // normalised
    // Keys of the directories whose history it may belong to, in order (see `load` below).
    std::vector<std::string> candidates;
    bool checked = false;  // known to be a regular file (else a `.sql` path not stat'ed yet)
  };
  std::vector<LintSequence> out;
  std::vector<NamedFile> named;
  auto add_file = [&](std::string given, bool checked) {
    NamedFile f{given, fs::path(Normal(given)), {}, checked};
    fs::path dir = f.file.parent_path();
    // Diesel's up.sql and down.sql belong to the folder's parent; the folder comes second.
    if (f.file.filename() == "up.sql" || f.file.filename() == "down.sql")
      f.candidates.push_back("M" + dir.parent_path().string());
    f.candidates.push_back("L" + dir.string());
    named.push_back(std::move(f));
  };
  // A path that is not a `.sql` file of a directory listing: one stat says what it is.
  auto add_path = [&](const std::string& path) -> Status {
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status)) {
      return Status::InvalidInput("could not lint \"" + path + "\": no such file or directory");
    }
    if (!fs::is_directory(status)) {
      add_file(path, true);
    } else if (IsMigrationFolder(path, layout)) {
      add_file((fs::path(path) / "up.sql").string(), true);
    } else {
      CollectDirectory(path, layout, out, /*threads=*/0);
    }
    return Status::Ok();
  };
  for (const auto& path : paths) {
    // A `.sql` path is looked up in its directory's listing first: a file list is long, and
    // the listing proves the file exists without a stat per file.
    if (path.ends_with(".sql")) {
      add_file(path, false);
    } else {
      TANDEM_RETURN_IF_ERROR(add_path(path));
    }
  }

  // Each directory is loaded once; the first candidates of every file (nearly always the
  // right ones) load on all cores, as a directory's subdirectories do.
  std::map<std::string, DirectoryContext> contexts;
  std::vector<std::string> first;
  // A context's key: "L" or "M" (loose files or a migration set only) and the directory.
  auto load = [&](const std::string& key) {
    return LoadContext(key.substr(1), key[0] == 'L', layout);
  };
  for (const auto& f : named) {
    if (contexts.try_emplace(f.candidates[0]).second) first.push_back(f.candidates[0]);
  }
  ParallelFor(first.size(), 0, [&](size_t i) { contexts.at(first[i]) = load(first[i]); });
  size_t next_order = 0;
  for (size_t n = 0; n < named.size(); ++n) {  // add_path may append while this runs
    bool found = false;
    for (size_t c = 0; c < named[n].candidates.size() && !found; ++c) {
      std::string candidate = named[n].candidates[c];
      auto it = contexts.find(candidate);
      if (it == contexts.end()) it = contexts.emplace(candidate, load(candidate)).first;
      DirectoryContext& context = it->second;
      const NamedFile& f = named[n];
      std::string key = f.file.string();
      if (context.other_files.count(key)) {
        found = true;  // a down file: its migration is judged by its up section
        break;
      }
      auto unit = context.up_files.find(key);
      if (unit == context.up_files.end()) continue;
      LintUnit& u = context.units[unit->second];
      if (!u.report) {
        u.report = true;
        u.info.file = f.given;
        // The down file sits beside the up file: name it the way the up file was named.
        std::filesystem::path down(u.down_file);
        if (!u.down_file.empty() && down.parent_path() == f.file.parent_path()) {
          u.down_file = (std::filesystem::path(f.given).parent_path() / down.filename()).string();
        }
      }
      if (context.last_named == 0) context.order = ++next_order;
      context.last_named = std::max(context.last_named, unit->second + 1);
      found = true;
    }
    if (found) continue;
    if (!named[n].checked) {
      // Not in any listing: missing, a directory named `.sql`, or a file no layout claims.
      std::string given = named[n].given;
      TANDEM_RETURN_IF_ERROR(add_path(given));
      continue;
    }
    // Down files are never linted, as when their directory is: lint judges what up applies.
    if (!IsDownFile(named[n].file.filename().string())) {
      TANDEM_ASSIGN_OR_RETURN(LintUnit unit, PlainFileUnit(named[n].given));
      out.push_back({std::move(unit)});
    }
  }
  std::vector<DirectoryContext*> used;
  for (auto& [dir, context] : contexts) {
    if (context.last_named > 0) used.push_back(&context);
  }
  std::sort(used.begin(), used.end(),
            [](const auto* a, const auto* b) { return a->order < b->order; });
  for (DirectoryContext* context : used) {
    // Later migrations do not matter to the named ones.
    context->units.resize(context->last_named);
    out.push_back(std::move(context->units));
  }
  return out;
}

}  // namespace tandem::lint
