// `tandem new`: names, versions and templates of new migration files for every layout.
#include "migrate/new_migration.h"

#include <cstdio>
#include <ctime>
#include <filesystem>

#include "base/process.h"
#include "migrate/layout_files.h"

namespace tandem::migrate {
namespace {

namespace fs = std::filesystem;

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `format` is strftime's, applied to `t` in UTC.
std::string FormatUtc(std::chrono::system_clock::time_point t, const char* format) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, format, &tm);
  return buffer;
}

// The names of every migration already in the directory, whatever its layout.
std::vector<layout::EntryName> ExistingEntries(const std::string& directory) {
  std::vector<layout::EntryName> entries;
  std::error_code ec;
  for (fs::directory_iterator it(directory, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code type_ec;
    auto name = layout::MatchEntry(it->path().filename().string(), it->is_directory(type_ec));
    if (name) entries.push_back(std::move(*name));
  }
  return entries;
}

// How a version is spelled in its file name: Diesel's directory prefix keeps its dashes
// ("2019-01-01-000000"), Flyway's its dots; the others are the version itself.
std::string Spelling(const layout::EntryName& e) {
  if (e.layout == Layout::kDiesel) return e.entry.substr(0, e.entry.find('_'));
  return e.version;
}

// `spelling` with its digits replaced, in order, by those of `digits` (as many as it has).
std::string Reshape(const std::string& spelling, const std::string& digits) {
  std::string out = spelling;
  size_t next = 0;
  for (char& c : out) {
    if (IsDigit(c)) c = next < digits.size() ? digits[next++] : '0';
  }
  return out;
}

size_t DigitCount(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += IsDigit(c) ? 1 : 0;
  return n;
}

// `spelling` plus one in its last run of digits, keeping its width ("000041" -> "000042",
// "1.9" -> "1.10").
std::string Increment(std::string spelling) {
  size_t i = spelling.size();
  while (i > 0 && IsDigit(spelling[i - 1])) {
    if (spelling[i - 1] != '9') {
      ++spelling[i - 1];
      return spelling;
    }
    spelling[--i] = '0';
  }
  spelling.insert(i, "1");
  return spelling;
}

// The version spelling for a new migration: "now" in the shape of the directory's newest
// migration of this layout (the same digit count and separators, so that it sorts with them:
// Diesel compares versions as strings), or the next number after it when the directory numbers
// its migrations in sequence (fewer digits than a timestamp). Always sorts after every existing
// version of the layout and collides with no version of any layout.
std::string NewSpelling(const std::vector<layout::EntryName>& existing, Layout layout,
                        std::chrono::system_clock::time_point now) {
  auto family = [](Layout l) { return l == Layout::kGoose ? Layout::kTandem : l; };
  const layout::EntryName* newest = nullptr;
  for (const auto& e : existing) {
    if (family(e.layout) != family(layout)) continue;
    if (!newest || CompareVersions(e.version, newest->version, layout) > 0) newest = &e;
  }
  auto version_of = [](const std::string& spelling) {
    std::string digits;
    for (char c : spelling) {
      if (c != '-') digits.push_back(c);
    }
    return digits;
  };
  auto taken = [&](const std::string& spelling) {
    std::string version = version_of(spelling);
    for (const auto& e : existing) {
      if (CompareVersions(e.version, version, layout) == 0) return true;
    }
    return false;
  };
  auto sorts_last = [&](const std::string& spelling) {
    return !newest || CompareVersions(version_of(spelling), newest->version, layout) > 0;
  };
  constexpr size_t kTimestampDigits = 14;
  if (newest && DigitCount(Spelling(*newest)) < kTimestampDigits) {
    std::string next = Increment(Spelling(*newest));
    while (taken(next)) next = Increment(next);
    return next;
  }
  std::string shape = layout == Layout::kDiesel ? "0000-00-00-000000" : "00000000000000";
  if (newest && newest->version.find('.') == std::string::npos) shape = Spelling(*newest);
  auto t = std::chrono::time_point_cast<std::chrono::milliseconds>(now);
  auto spell = [&](std::chrono::system_clock::time_point at) {
    // Digits past the seconds (18-digit Diesel versions, 20-digit ory/pop ones) are the
    // sub-second part, as those tools write it.
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch() %
                                                                        std::chrono::seconds(1))
                      .count();
    char fraction[8];
    std::snprintf(fraction, sizeof fraction, "%03lld", static_cast<long long>(millis));
    return Reshape(shape, FormatUtc(at, "%Y%m%d%H%M%S") + fraction + std::string(8, '0'));
  };
  bool sub_second = DigitCount(shape) > kTimestampDigits;
  if (!sub_second) t = std::chrono::time_point_cast<std::chrono::seconds>(now);
  std::string spelling = spell(t);
  for (int tries = 0; taken(spelling) && tries < 100000; ++tries) {
    t += sub_second ? std::chrono::milliseconds(1) : std::chrono::milliseconds(1000);
    spelling = spell(t);
  }
  // A newest version ahead of the clock: the next number after it instead.
  if (!sorts_last(spelling) || taken(spelling)) {
    spelling = Increment(Spelling(*newest));
    while (taken(spelling)) spelling = Increment(spelling);
  }
  return spelling;
}

std::string Header(Phase phase) {
  if (phase == Phase::kPreDeploy) return "";
  return "-- tandem:phase " + std::string(PhaseName(phase)) + "\n";
}

struct NewFile {
  std::string relative;
  std::string contents;
};

// The layout's own template, as its tool would write it, with tandem's directives on top.
std::vector<NewFile> Template(Layout layout, const std::string& stem, Phase phase) {
  std::string header = Header(phase);
  switch (layout) {
    case Layout::kTandem:
      return {{stem + ".sql", header + "-- migrate:up\n\n-- migrate:down\n"}};
    case Layout::kGoose:
      return {{stem + ".sql", header + "-- +goose Up\n\n-- +goose Down\n"}};
    case Layout::kGolangMigrate:
      return {{stem + ".up.sql", header}, {stem + ".down.sql", ""}};
    case Layout::kDiesel:
      return {{stem + "/up.sql", header + "-- Your SQL goes here\n"},
              {stem + "/down.sql", "-- This file should undo anything in `up.sql`\n"}};
    case Layout::kFlyway:
      return {{"V" + stem + ".sql", header}};
  }
  return {};
}

}  // namespace

std::string SanitizeMigrationName(std::string_view name) {
  std::string out;
  bool separator = false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!IsLower(c) && !IsUpper(c) && !IsDigit(c)) {
      separator = true;
      continue;
    }
    // camelCase and HTTPServer become camel_case and http_server.
    if (IsUpper(c) && i > 0) {
      char previous = name[i - 1];
      bool next_lower = i + 1 < name.size() && IsLower(name[i + 1]);
      if (IsLower(previous) || IsDigit(previous) || (IsUpper(previous) && next_lower)) {
        separator = true;
      }
    }
    if (separator && !out.empty()) out.push_back('_');
    separator = false;
    out.push_back(IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

Result<std::string> WriteNewMigration(const std::string& directory, Layout layout,
                                      const std::string& name, Phase phase,
                                      std::chrono::system_clock::time_point now) {
  constexpr const char* kHint = "name what the migration does, e.g. tandem new add_email_to_users";
  std::string clean = SanitizeMigrationName(name);
  if (name.empty()) return Status::InvalidInput("migration name is empty").WithHint(kHint);
  if (clean.empty()) {
    return Status::InvalidInput("migration name \"" + name + "\" has no letters or digits")
        .WithHint(kHint);
  }
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    return Status::InvalidInput("migrations directory \"" + directory + "\" does not exist")
        .WithHint("run \"tandem init\" or pass --dir");
  }

  std::string version = NewSpelling(ExistingEntries(directory), layout, now);
  std::string stem = version + (layout == Layout::kFlyway ? "__" : "_") + clean;

  std::string base = directory.empty() || directory.back() == '/' ? directory : directory + "/";
  std::vector<NewFile> files = Template(layout, stem, phase);
  for (const NewFile& file : files) {
    if (fs::exists(base + file.relative, ec)) {
      return Status::InvalidInput("\"" + base + file.relative + "\" already exists")
          .WithHint("choose another name");
    }
  }
  if (layout == Layout::kDiesel && !fs::create_directory(base + stem, ec)) {
    return Status::Failed("could not create directory \"" + base + stem + "\": " + ec.message());
  }
  for (const NewFile& file : files) {
    TANDEM_RETURN_IF_ERROR(WriteFile(base + file.relative, file.contents));
  }
  return base + files.front().relative;
}

}  // namespace tandem::migrate
