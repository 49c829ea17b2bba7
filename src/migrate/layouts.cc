// LoadMigrations: lists a migrations directory, decides its layout, groups the files of each
// version into one Migration and refuses what cannot be loaded unambiguously.
#include "migrate/layouts.h"

#include <algorithm>
#include <filesystem>
#include <tuple>

#include "base/parallel_for.h"
#include "base/sha256.h"
#include "migrate/layout_files.h"

namespace tandem::migrate {
namespace {

namespace fs = std::filesystem;
using layout::EntryName;
using layout::FileRole;

// tandem and goose share a name form; the rest is told apart by names alone.
Layout Family(Layout l) { return l == Layout::kGoose ? Layout::kTandem : l; }

std::string FamilyName(Layout l) {
  return l == Layout::kTandem ? "tandem (or goose)" : std::string(LayoutName(l));
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

struct Entry {
  EntryName name;
  std::string path;
  bool has_up = false;  // Diesel directories: which files they hold
  bool has_down = false;
};

struct Listing {
  std::vector<Entry> entries;
  std::vector<std::string> odd;       // .sql files named like migrations of no layout
  std::vector<std::string> go_files;  // goose's Go migrations, <v>_<name>.go
};

std::string Join(const std::string& directory, std::string_view base) {
  if (!directory.empty() && directory.back() == '/') return directory + std::string(base);
  return directory + "/" + std::string(base);
}

Result<Listing> List(const std::string& directory, const layout::DirectoryFiles& files) {
  std::error_code ec;
  Listing listing;
  fs::directory_iterator it(directory, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string base = it->path().filename().string();
    std::error_code type_ec;
    bool directory_entry = it->is_directory(type_ec);
    auto name = layout::MatchEntry(base, directory_entry);
    if (!name) {
      if (!directory_entry && layout::LooksLikeMigration(base)) {
        listing.odd.push_back(Join(directory, base));
      }
      if (!directory_entry && base.size() > 3 && base.ends_with(".go") &&
          layout::MatchEntry(base.substr(0, base.size() - 3) + ".sql", false)) {
        listing.go_files.push_back(Join(directory, base));
      }
      continue;
    }
    Entry entry{*std::move(name), Join(directory, base)};
    if (directory_entry) {
      // Only a directory holding Diesel's files is a migration; others (an archive/ folder
      // named with a date) are left alone.
      entry.has_up = files.Exists(base + "/up.sql");
      entry.has_down = files.Exists(base + "/down.sql");
      if (!entry.has_up && !entry.has_down) continue;
    }
    listing.entries.push_back(std::move(entry));
  }
  if (ec) {
    return Status::InvalidInput("could not read migrations directory " + Quoted(directory) + ": " +
                                ec.message());
  }
  // Version order, then name: groups the files of one version and makes every message
  // (which file is "the second") independent of the directory's order.
  // Sorting indices moves ints rather than entries of seven strings each.
  std::vector<size_t> order(listing.entries.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const EntryName& x = listing.entries[a].name;
    const EntryName& y = listing.entries[b].name;
    int c = CompareVersions(x.version, y.version);
    return c != 0 ? c < 0 : x.entry < y.entry;
  });
  std::vector<Entry> sorted;
  sorted.reserve(order.size());
  for (size_t i : order) sorted.push_back(std::move(listing.entries[i]));
  listing.entries = std::move(sorted);
  std::sort(listing.odd.begin(), listing.odd.end());
  return listing;
}

Status DoesNotFit(const std::string& path, Layout layout) {
  return Status::InvalidInput("file name does not fit the " + std::string(LayoutName(layout)) +
                              " layout")
      .WithLocation({path})
      .WithHint("name migrations " + layout::LayoutPattern(layout) +
                ", move other files out of the migrations directory, or pass --layout");
}

Status Mixed(const std::string& directory, const std::string& a, Layout la, const std::string& b,
             Layout lb) {
  return Status::InvalidInput("migrations directory " + Quoted(directory) +
                              " mixes layouts: " + Quoted(a) + " is " + FamilyName(la) + ", " +
                              Quoted(b) + " is " + FamilyName(lb))
      .WithLocation({b})
      .WithHint(
          "pass --layout (or set layout in [migrations] of tandem.toml) and move the files "
          "of the other layout out of the directory");
}

Status Duplicate(const Entry& first, const Entry& second) {
  return Status::InvalidInput("version " + second.name.version + " is used by two migrations: " +
                              Quoted(first.path) + " and " + Quoted(second.path))
      .WithLocation({second.path})
      .WithHint("give one of them a new version (\"tandem new\" names files with a timestamp)");
}

Status CheckDirectory(const std::string& directory) {
  std::error_code ec;
  if (!fs::exists(directory, ec)) {
    return Status::InvalidInput("migrations directory " + Quoted(directory) + " does not exist")
        .WithHint("run \"tandem init\" or pass --dir");
  }
  if (!fs::is_directory(directory, ec)) {
    return Status::InvalidInput("migrations directory " + Quoted(directory) + " is not a directory")
        .WithHint("pass --dir with the directory that holds the migration files");
  }
  return Status::Ok();
}

Result<std::string> ReadNormalised(const layout::DirectoryFiles& files,
                                   const std::string& relative) {
  TANDEM_ASSIGN_OR_RETURN(std::string text, files.Read(relative));
  // Most files have no CR at all: skip the copy for them.
  if (text.find('\r') == std::string::npos) return text;
  return NormalizeLineEndings(text);
}

// One version's entries of a multi-file layout: the up file, and the down file if any. Picks
// the PostgreSQL-specific golang-migrate variant over the generic one; nullptr for up when the
// version only has files for other databases.
struct Pair {
  const Entry* up = nullptr;
  const Entry* down = nullptr;
};
Result<Pair> PickFiles(const Entry* begin, const Entry* end, Layout chosen) {
  Pair pair;
  bool other_dialect_up = false;
  for (const Entry* e = begin; e != end; ++e) {
    if (e->name.other_dialect) {
      other_dialect_up |= e->name.role == FileRole::kUp;
      continue;
    }
    const Entry*& slot = e->name.role == FileRole::kDown ? pair.down : pair.up;
    if (slot && slot->name.postgres_specific != e->name.postgres_specific) {
      if (e->name.postgres_specific) slot = e;
      continue;
    }
    if (slot) return Duplicate(*slot, *e);
    slot = e;
  }
  if (!pair.up && pair.down && !other_dialect_up) {
    return Status::InvalidInput("down file without an up file")
        .WithLocation({pair.down->path})
        .WithHint("add the up file (" + layout::LayoutPattern(chosen) + "), or delete it");
  }
  if (!pair.up) pair.down = nullptr;  // a migration for another database only
  return pair;
}

// Diesel's metadata.toml may say `run_in_transaction = false`. A line scan is enough for the
// one key Diesel defines.
bool DieselRunsInTransaction(const layout::DirectoryFiles& files, const std::string& relative) {
  std::string metadata = relative + "/metadata.toml";
  if (!files.Exists(metadata)) return true;
  auto text = files.Read(metadata);
  if (!text.ok()) return true;
  std::string compact;
  for (char c : *text) {
    if (c == '\n') {
      if (compact == "run_in_transaction=false") return false;
      compact.clear();
    } else if (c != ' ' && c != '\t' && c != '\r') {
      compact.push_back(c);
    }
  }
  return compact != "run_in_transaction=false";
}

Result<Migration> LoadMultiFile(const layout::DirectoryFiles& files, const Entry& up,
                                const Entry* down, Layout chosen, const LoadOptions& options) {
  Migration m;
  m.version = up.name.version;
  m.name = up.name.name;
  std::vector<std::string> relatives;  // to the migrations directory, as m.paths
  std::vector<std::string> texts;
  if (chosen == Layout::kDiesel) {
    if (!up.has_up) {
      return Status::InvalidInput("Diesel migration has no up.sql")
          .WithLocation({up.path})
          .WithHint("add " + up.path + "/up.sql, or delete the directory");
    }
    relatives.push_back(up.name.entry + "/up.sql");
    m.paths.push_back(up.path + "/up.sql");
    if (up.has_down) {
      relatives.push_back(up.name.entry + "/down.sql");
      m.paths.push_back(up.path + "/down.sql");
    }
    m.transactional = DieselRunsInTransaction(files, up.name.entry);
  } else {
    relatives.push_back(up.name.entry);
    m.paths.push_back(up.path);
    if (down) {
      relatives.push_back(down->name.entry);
      m.paths.push_back(down->path);
    }
    m.transactional = !up.name.autocommit && !(down && down->name.autocommit);
  }
  size_t to_read = options.read_down_files ? m.paths.size() : 1;
  for (size_t i = 0; i < to_read; ++i) {
    TANDEM_ASSIGN_OR_RETURN(std::string text, ReadNormalised(files, relatives[i]));
    TANDEM_RETURN_IF_ERROR(layout::ReadWholeFile(m.paths[i], text, i == 0, m));
    texts.push_back(std::move(text));
  }
  if (options.checksums && texts.size() == m.paths.size()) {
    layout::SetChecksums(m, texts[0], texts.size() > 1 ? std::string_view(texts[1]) : "");
    m.legacy_checksum = texts.size() > 1 ? layout::Checksum(m.paths, texts) : m.up_checksum;
  }
  return m;
}

}  // namespace

Result<MigrationSet> LoadMigrations(const std::string& directory, const LoadOptions& options) {
  TANDEM_RETURN_IF_ERROR(CheckDirectory(directory));
  TANDEM_ASSIGN_OR_RETURN(layout::DirectoryFiles files, layout::DirectoryFiles::Open(directory));
  TANDEM_ASSIGN_OR_RETURN(Listing listing, List(directory, files));
  const std::vector<Entry>& entries = listing.entries;
  MigrationSet set;
  set.directory = directory;

  // The layout: as given, or the one family every entry belongs to.
  std::optional<Layout> chosen = options.layout;
  if (chosen) {
    for (const Entry& e : entries) {
      if (Family(e.name.layout) != Family(*chosen)) return DoesNotFit(e.path, *chosen);
    }
  } else if (!entries.empty()) {
    for (const Entry& e : entries) {
      if (Family(e.name.layout) != Family(entries.front().name.layout)) {
        return Mixed(directory, entries.front().path, entries.front().name.layout, e.path,
                     e.name.layout);
      }
    }
    chosen = entries.front().name.layout;
  }
  Layout family = chosen ? Family(*chosen) : Layout::kTandem;

  // tandem and goose files share their names; their markers tell them apart.
  std::vector<std::string> texts;
  if (family == Layout::kTandem) {
    // Read on all cores (status over 10,000 files is mostly reading them); the first error in
    // name order wins, as it would reading one by one.
    texts.resize(entries.size());
    std::vector<Status> errors(entries.size());
    ParallelFor(entries.size(), options.threads, [&](size_t i) {
      auto text = ReadNormalised(files, entries[i].name.entry);
      if (text.ok()) {
        texts[i] = std::move(*text);
      } else {
        errors[i] = text.status();
      }
    });
    for (const Status& error : errors) TANDEM_RETURN_IF_ERROR(error);
    const Entry* dbmate = nullptr;
    const Entry* goose = nullptr;
    for (size_t i = 0; i < entries.size() && !options.layout; ++i) {
      layout::Markers markers = layout::FindMarkers(texts[i]);
      if (markers.migrate_up && !dbmate) dbmate = &entries[i];
      if (markers.goose_up && !markers.migrate_up && !goose) goose = &entries[i];
    }
    if (dbmate && goose) {
      return Status::InvalidInput("migrations directory " + Quoted(directory) + " mixes layouts: " +
                                  Quoted(dbmate->path) + " is tandem (dbmate markers), " +
                                  Quoted(goose->path) + " is goose")
          .WithLocation({goose->path})
          .WithHint(
              "pass --layout (or set layout in [migrations] of tandem.toml) and convert "
              "the files of the other layout");
    }
    if (!options.layout) chosen = goose ? Layout::kGoose : Layout::kTandem;
  }
  set.layout = chosen.value_or(Layout::kTandem);
  if (set.layout == Layout::kDiesel) {
    // Diesel orders its versions as strings (see CompareVersions): group and sort that way.
    std::stable_sort(
        listing.entries.begin(), listing.entries.end(), [](const Entry& a, const Entry& b) {
          return std::tie(a.name.version, a.name.entry) < std::tie(b.name.version, b.name.entry);
        });
  }
  if (!listing.odd.empty()) return DoesNotFit(listing.odd.front(), set.layout);
  if (set.layout == Layout::kGoose && !listing.go_files.empty()) {
    return Status::InvalidInput("goose Go migrations are not supported")
        .WithLocation({listing.go_files.front()})
        .WithHint("rewrite it as a SQL migration, or run it with goose before adopting tandem");
  }

  for (const Entry& e : entries) {
    if (e.name.repeatable) {
      return Status::InvalidInput("repeatable migrations are not supported")
          .WithLocation({e.path})
          .WithHint(
              "turn it into a versioned migration (V<version>__<name>.sql), or move it out "
              "of the migrations directory");
    }
  }

  // Which entries make each migration, in order (serial: cheap, and its errors come first
  // for the entries they concern); then every migration is read and parsed on all cores.
  struct Job {
    size_t begin;
    Pair pair;     // multi-file layouts
    Status error;  // a duplicate version or a bad pair: reported in its place
  };
  std::vector<Job> jobs;
  for (size_t begin = 0, end; begin < entries.size(); begin = end) {
    end = begin + 1;
    while (end < entries.size() &&
           set.Compare(entries[begin].name.version, entries[end].name.version) == 0) {
      ++end;
    }
    Job job{begin, {}, Status::Ok()};
    if ((set.layout == Layout::kTandem || set.layout == Layout::kGoose ||
         set.layout == Layout::kDiesel) &&
        end - begin > 1) {
      job.error = Duplicate(entries[begin], entries[begin + 1]);
    } else if (family != Layout::kTandem) {
      auto pair = PickFiles(&entries[begin], &entries[end], set.layout);
      if (!pair.ok()) {
        job.error = pair.status();
      } else if (!pair->up) {
        continue;  // only files for other databases
      } else {
        job.pair = *pair;
      }
    }
    jobs.push_back(std::move(job));
  }
  std::vector<Result<Migration>> loaded(jobs.size(), Migration());
  ParallelFor(jobs.size(), options.threads, [&](size_t j) {
    const Job& job = jobs[j];
    if (!job.error.ok()) {
      loaded[j] = job.error;
      return;
    }
    const Entry& first = entries[job.begin];
    if (family == Layout::kTandem) {
      Migration m;
      m.version = first.name.version;
      m.name = first.name.name;
      m.paths = {first.path};
      Status read = layout::ReadSectionedFile(set.layout, first.path, texts[job.begin], m);
      if (!read.ok()) {
        loaded[j] = read;
        return;
      }
      if (options.checksums) layout::SetSectionedChecksums(m, texts[job.begin]);
      loaded[j] = std::move(m);
      return;
    }
    loaded[j] = LoadMultiFile(files, *job.pair.up, job.pair.down, set.layout, options);
  });
  set.migrations.reserve(loaded.size());
  for (auto& m : loaded) {
    if (!m.ok()) return m.status();
    set.migrations.push_back(std::move(*m));
  }
  return set;
}

}  // namespace tandem::migrate
