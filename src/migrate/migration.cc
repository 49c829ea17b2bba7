// The migration model's vocabulary: phase and layout names, and how versions are ordered.
#include "migrate/migration.h"

#include <algorithm>

namespace tandem::migrate {

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kPreDeploy:
      return "pre-deploy";
    case Phase::kPostDeploy:
      return "post-deploy";
    case Phase::kBackground:
      return "background";
  }
  return "pre-deploy";
}

std::optional<Phase> ParsePhase(std::string_view name) {
  for (Phase phase : {Phase::kPreDeploy, Phase::kPostDeploy, Phase::kBackground}) {
    if (name == PhaseName(phase)) return phase;
  }
  return std::nullopt;
}

std::string_view LayoutName(Layout layout) {
  switch (layout) {
    case Layout::kTandem:
      return "tandem";
    case Layout::kGolangMigrate:
      return "golang-migrate";
    case Layout::kDiesel:
      return "diesel";
    case Layout::kFlyway:
      return "flyway";
    case Layout::kGoose:
      return "goose";
  }
  return "tandem";
}

std::optional<Layout> ParseLayout(std::string_view name) {
  // dbmate's file format is tandem's own (tandem adopted dbmate's section markers).
  if (name == "dbmate") return Layout::kTandem;
  for (Layout layout : {Layout::kTandem, Layout::kGolangMigrate, Layout::kDiesel, Layout::kFlyway,
                        Layout::kGoose}) {
    if (name == LayoutName(layout)) return layout;
  }
  return std::nullopt;
}

namespace {

// The next '.'-separated component of `version` from `pos`, with its leading zeros dropped
// ("" stands for zero), advancing `pos` past the dot.
std::string_view NextComponent(std::string_view version, size_t& pos) {
  size_t end = version.find('.', pos);
  if (end == std::string_view::npos) end = version.size();
  std::string_view component = version.substr(pos, end - pos);
  pos = end + 1;
  while (!component.empty() && component.front() == '0') component.remove_prefix(1);
  return component;
}

}  // namespace

int CompareVersions(std::string_view a, std::string_view b) {
  // Components are compared as digit strings rather than converted to integers: timestamps
  // with sub-second digits (kratos uses 20 digits) overflow 64 bits. Without leading zeros a
  // longer digit string is a larger number, and equal lengths compare lexicographically. A
  // missing component counts as zero, so "1" equals "1.0", as in Flyway.
  size_t pa = 0, pb = 0;
  while (pa <= a.size() || pb <= b.size()) {
    std::string_view ca = pa <= a.size() ? NextComponent(a, pa) : std::string_view();
    std::string_view cb = pb <= b.size() ? NextComponent(b, pb) : std::string_view();
    if (ca.size() != cb.size()) return ca.size() < cb.size() ? -1 : 1;
    int c = ca.compare(cb);
    if (c != 0) return c < 0 ? -1 : 1;
  }
  return 0;
}

int CompareVersions(std::string_view a, std::string_view b, Layout layout) {
  // Diesel sorts and matches its versions as strings (MigrationVersion is a string), so a
  // history mixing 14- and 18-digit versions is in date order as a string and not as a number.
  if (layout == Layout::kDiesel) {
    int c = a.compare(b);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return CompareVersions(a, b);
}

const Migration* MigrationSet::Find(std::string_view version) const {
  // Sorted by version: binary search with the same ordering, so "007" finds "7" (except in
  // Diesel, where they are two versions).
  auto it = std::lower_bound(
      migrations.begin(), migrations.end(), version,
      [this](const Migration& m, std::string_view v) { return Compare(m.version, v) < 0; });
  if (it == migrations.end() || Compare(it->version, version) != 0) return nullptr;
  return &*it;
}

}  // namespace tandem::migrate
