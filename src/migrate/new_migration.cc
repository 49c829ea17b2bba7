// `tandem new`: names, versions and templates of new migration files for every layout.
#include "migrate/new_migration.h"

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

// The versions of every migration already in the directory, whatever its layout.
std::vector<std::string> ExistingVersions(const std::string& directory) {
  std::vector<std::string> versions;
  std::error_code ec;
  for (fs::directory_iterator it(directory, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code type_ec;
    auto name = layout::MatchEntry(it->path().filename().string(), it->is_directory(type_ec));
    if (name) versions.push_back(name->version);
  }
  return versions;
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

  std::vector<std::string> existing = ExistingVersions(directory);
  auto taken = [&](const std::string& version) {
    for (const std::string& v : existing) {
      if (CompareVersions(v, version) == 0) return true;
    }
    return false;
  };
  auto t = std::chrono::time_point_cast<std::chrono::seconds>(now);
  while (taken(FormatUtc(t, "%Y%m%d%H%M%S"))) t += std::chrono::seconds(1);
  // Diesel names directories with dashes and records the version without them.
  std::string version =
      FormatUtc(t, layout == Layout::kDiesel ? "%Y-%m-%d-%H%M%S" : "%Y%m%d%H%M%S");
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
