// A small parser of the Prometheus text exposition format (0.0.4) for tests: they assert on the
// values a scraper would read, not on the text's layout.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace tandem::testing {

struct Exposition {
  // "name{a=\"x\",b=\"y\"}" (labels sorted, values unescaped then re-escaped) -> value.
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;  // family -> "gauge", "counter", "histogram"
  std::map<std::string, std::string> help;   // family -> text
  std::vector<std::string> errors;           // lines that do not follow the format

  bool Has(const std::string& key) const { return samples.count(key) > 0; }
  double Value(const std::string& key) const {
    auto it = samples.find(key);
    EXPECT_NE(it, samples.end()) << "no sample " << key;
    return it == samples.end() ? -1 : it->second;
  }
};

// The canonical key of a sample: labels sorted by name, values escaped back.
inline std::string SampleKey(const std::string& name, std::map<std::string, std::string> labels) {
  std::string key = name;
  if (labels.empty()) return key;
  key += '{';
  bool first = true;
  for (const auto& [label, value] : labels) {
    if (!first) key += ',';
    first = false;
    key += label + "=\"";
    for (char c : value) {
      if (c == '\\')
        key += "\\\\";
      else if (c == '"')
        key += "\\\"";
      else if (c == '\n')
        key += "\\n";
      else
        key += c;
    }
    key += '"';
  }
  return key + '}';
}

inline Exposition ParseExposition(const std::string& text) {
  Exposition out;
  std::set<std::string> families_with_samples;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kind, family;
      words >> hash >> kind >> family;
      std::string rest;
      std::getline(words, rest);
      if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
      if (kind == "TYPE") {
        if (out.types.count(family) || families_with_samples.count(family)) {
          out.errors.push_back("TYPE repeated or after samples: " + line);
        }
        out.types[family] = rest;
      } else if (kind == "HELP") {
        if (out.help.count(family)) out.errors.push_back("HELP repeated: " + line);
        out.help[family] = rest;
      }
      continue;
    }
    size_t i = 0;
    while (i < line.size() && (std::isalnum(static_cast<unsigned char>(line[i])) ||
                               line[i] == '_' || line[i] == ':')) {
      ++i;
    }
    std::string name = line.substr(0, i);
    std::map<std::string, std::string> labels;
    bool bad = name.empty();
    if (!bad && i < line.size() && line[i] == '{') {
      ++i;
      while (!bad && i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          bad = true;
          break;
        }
        std::string label = line.substr(i, eq - i);
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            char e = line[++j];
            if (e == 'n')
              value += '\n';
            else if (e == '\\' || e == '"')
              value += e;
            else
              bad = true;
          } else {
            value += line[j];
          }
        }
        if (j >= line.size()) {
          bad = true;
          break;
        }
        labels[label] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) bad = true;
      ++i;  // '}'
    }
    if (bad || i >= line.size() || line[i] != ' ') {
      out.errors.push_back("malformed sample: " + line);
      continue;
    }
    std::string value_text = line.substr(i + 1);
    char* end = nullptr;
    double value = std::strtod(value_text.c_str(), &end);
    if (value_text.empty() || *end != '\0') {
      out.errors.push_back("malformed value: " + line);
      continue;
    }
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s(suffix);
      if (family.size() > s.size() && family.compare(family.size() - s.size(), s.size(), s) == 0 &&
          out.types.count(family.substr(0, family.size() - s.size())) &&
          out.types[family.substr(0, family.size() - s.size())] == "histogram") {
        family = family.substr(0, family.size() - s.size());
      }
    }
    if (!out.types.count(family)) out.errors.push_back("sample before its TYPE: " + line);
    families_with_samples.insert(family);
    std::string key = SampleKey(name, labels);
    if (out.samples.count(key)) out.errors.push_back("duplicate sample: " + line);
    out.samples[key] = value;
  }
  return out;
}

}  // namespace tandem::testing
