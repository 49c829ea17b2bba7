// Which of libpg_query's outputs lint should read: the time to parse every up file of a corpus
// to its JSON tree, to its protobuf tree, and only to statement boundaries (the raw parse
// without any output), single-threaded. tandem's own code reaches libpg_query through
// src/sql/parser.cc only; this program measures the library itself, so it calls it directly.
//
//   build/bench/parser_outputs ../shared/corpus
#include <pg_query.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: parser_outputs CORPUS_DIR\n");
    return 2;
  }
  std::vector<std::string> texts;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(argv[1])) {
    std::string path = entry.path().string();
    if (!path.ends_with(".sql") || path.ends_with("down.sql")) continue;
    std::ifstream file(path);
    std::stringstream text;
    text << file.rdbuf();
    texts.push_back(text.str());
  }
  for (int round = 1; round <= 3; ++round) {
    auto start = std::chrono::steady_clock::now();
    size_t json_bytes = 0;
    for (const auto& t : texts) {
      PgQueryParseResult r = pg_query_parse(t.c_str());
      if (!r.error) json_bytes += std::string(r.parse_tree).size();
      pg_query_free_parse_result(r);
    }
    double json_ms = MsSince(start);
    start = std::chrono::steady_clock::now();
    size_t protobuf_bytes = 0;
    for (const auto& t : texts) {
      PgQueryProtobufParseResult r = pg_query_parse_protobuf(t.c_str());
      protobuf_bytes += r.parse_tree.len;
      pg_query_free_protobuf_parse_result(r);
    }
    double protobuf_ms = MsSince(start);
    start = std::chrono::steady_clock::now();
    for (const auto& t : texts) pg_query_free_split_result(pg_query_split_with_parser(t.c_str()));
    double split_ms = MsSince(start);
    std::printf(
        "round %d, %zu files: JSON %.1f ms (%zu bytes), protobuf %.1f ms (%zu bytes), "
        "statement boundaries only %.1f ms\n",
        round, texts.size(), json_ms, json_bytes, protobuf_ms, protobuf_bytes, split_ms);
  }
  return 0;
}
