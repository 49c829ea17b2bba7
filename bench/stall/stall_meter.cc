// The stall meter: plays the application while a migration runs, and measures what it felt.
//
// It starts its own embedded PostgreSQL, builds a table of --rows rows once (as a template
// database), and for each scenario and mode clones a fresh database, starts --clients
// connections doing primary-key reads and updates as fast as they can (every latency
// recorded), optionally a blocker (an open transaction that read the table, idle for
// --blocker-seconds), then runs the migration either naively (`psql -f`, the same file) or
// through `tandem release`. Per run it writes <out>/<scenario>_<mode>.json (throughput, p50,
// p99, max, failed queries, longest stall) and <scenario>_<mode>.dat (per 100 ms bucket: the
// longest wait of any app query and the throughput) for the plot; the summary goes to
// <out>/summary.json.
//
//   stall_meter --tandem build/tandem --out /tmp/stall [--rows 1000000] [--clients 4]
//               [--scenarios S1,S2,S3] [--blocker-seconds 20] [--lock-timeout 500ms]
//
// A benchmark, not a test: it is not part of tandem_tests.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/process.h"
#include "pg/connection.h"
#include "pg/embedded_server.h"

namespace tandem::bench {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Flags {
  std::string tandem = "build/tandem";
  std::string psql = "psql";
  std::string out = "/tmp/tandem-stall";
  long long rows = 1'000'000;
  int clients = 4;
  int blocker_seconds = 20;
  std::string lock_timeout = "500ms";
  std::vector<std::string> scenarios = {"S1", "S2", "S3"};
};

struct Scenario {
  std::string id;
  std::string title;
  bool blocker;
  std::string migration;  // one file, valid for psql and tandem alike
};

std::vector<Scenario> Scenarios() {
  return {
      {"S1", "blocker + ADD COLUMN", true, "-- migrate:up\nALTER TABLE t ADD COLUMN note text;\n"},
      {"S2", "blocker + CREATE INDEX CONCURRENTLY + CHECK NOT VALID", true,
       "-- tandem:transaction off\n-- migrate:up\nCREATE INDEX CONCURRENTLY t_v_idx ON t (v);\n"
       "ALTER TABLE t ADD CONSTRAINT t_v_check CHECK (v >= 0) NOT VALID;\n"},
      {"S3", "no blocker, statement fails half-way", false,
       "-- migrate:up\nALTER TABLE t ADD COLUMN note text;\n"
       "ALTER TABLE t ADD COLUMN v int;\n"  // fails: column "v" already exists (42701)
       "ALTER TABLE t ADD COLUMN note2 text;\n"},
  };
}

struct Sample {
  double at_ms;  // query start, since the run began
  double latency_ms;
  bool ok;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::unique_ptr<pg::Connection> Open(const std::string& url, const std::string& app) {
  auto parsed = pg::ParseDatabaseUrl(url);
  pg::ConnectOptions options;
  options.application_name = app;
  auto c = pg::Connection::Open(*parsed, options);
  if (!c.ok()) {
    std::cerr << "stall_meter: " << c.status().ToString() << "\n";
    std::exit(1);
  }
  return std::move(*c);
}

void Must(const Status& s, const char* what) {
  if (!s.ok()) {
    std::cerr << "stall_meter: " << what << ": " << s.ToString() << "\n";
    std::exit(1);
  }
}

// One app client: alternating PK read and PK update, as fast as the server answers.
void AppClient(const std::string& url, long long rows, int seed, Clock::time_point t0,
               const std::atomic<bool>& stop, std::vector<Sample>& samples) {
  auto c = Open(url, "app");
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<long long> id(1, rows);
  bool read = true;
  while (!stop.load()) {
    std::string key = std::to_string(id(random));
    auto start = Clock::now();
    Status s = read ? c->Exec("SELECT v FROM t WHERE id = $1", {key})
                    : c->Exec("UPDATE t SET v = v + 1 WHERE id = $1", {key});
    auto end = Clock::now();
    samples.push_back({Ms(start - t0), Ms(end - start), s.ok()});
    read = !read;
  }
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

// The longest time during which no app query completed, seen from the app: the largest gap
// between consecutive completions (or the longest single query, if larger).
double LongestStall(const std::vector<Sample>& all) {
  std::vector<double> done;
  for (const auto& s : all) done.push_back(s.at_ms + s.latency_ms);
  std::sort(done.begin(), done.end());
  double longest = 0;
  for (size_t i = 1; i < done.size(); ++i) longest = std::max(longest, done[i] - done[i - 1]);
  return longest;
}

nlohmann::json RunOne(const Flags& flags, const Scenario& sc, const std::string& mode,
                      pg::EmbeddedServer& server, pg::Connection& admin) {
  std::string db = "run_" + sc.id + "_" + mode;
  std::transform(db.begin(), db.end(), db.begin(), [](unsigned char c) { return std::tolower(c); });
  Must(admin.Exec("DROP DATABASE IF EXISTS " + db), "drop database");
  Must(admin.Exec("CREATE DATABASE " + db + " TEMPLATE stall_base"), "clone the table");
  std::string url = server.Url(db);
  fs::path project = fs::path(flags.out) / ("project_" + sc.id + "_" + mode);
  fs::remove_all(project);
  fs::create_directories(project / "db/migrations");
  std::string file = (project / "db/migrations/20261121000001_migration.sql").string();
  Must(WriteFile(file, sc.migration), "write the migration");
  std::cerr << "== " << sc.id << " " << mode << ": " << sc.title << "\n";

  const auto t0 = Clock::now();
  std::atomic<bool> stop{false};
  std::vector<std::vector<Sample>> per_client(flags.clients);
  std::vector<std::thread> clients;
  for (int i = 0; i < flags.clients; ++i) {
    clients.emplace_back(AppClient, url, flags.rows, i + 1, t0, std::cref(stop),
                         std::ref(per_client[i]));
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));

  // The blocker: an open transaction that read the table, then sits idle in it.
  std::thread blocker;
  double blocker_start = 0, blocker_end = 0;
  if (sc.blocker) {
    blocker = std::thread([&] {
      auto c = Open(url, "blocking-report");
      blocker_start = Ms(Clock::now() - t0);
      Must(c->Exec("BEGIN"), "blocker begin");
      Must(c->Exec("SELECT count(*) FROM t"), "blocker read");
      std::this_thread::sleep_for(std::chrono::seconds(flags.blocker_seconds));
      Must(c->Exec("COMMIT"), "blocker commit");
      blocker_end = Ms(Clock::now() - t0);
    });
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }

  double migration_start = Ms(Clock::now() - t0);
  std::vector<std::string> argv;
  if (mode == "naive") {
    argv = {flags.psql, "-X", "-d", url, "-f", file};
  } else {
    argv = {flags.tandem, "--format", "json", "release", "--lock-timeout", flags.lock_timeout};
  }
  auto result =
      RunAndCapture(argv, {"TANDEM_DATABASE_URL=" + url, "PGAPPNAME=migration"}, project.string());
  double migration_end = Ms(Clock::now() - t0);
  if (blocker.joinable()) blocker.join();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  stop = true;
  for (auto& t : clients) t.join();
  double end_ms = Ms(Clock::now() - t0);

  std::vector<Sample> all;
  for (auto& v : per_client) all.insert(all.end(), v.begin(), v.end());
  std::vector<double> latencies;
  long long failed = 0;
  for (const auto& s : all) {
    latencies.push_back(s.latency_ms);
    failed += s.ok ? 0 : 1;
  }
  // Per 100 ms bucket, for the plot: how long the longest-waiting app query had been waiting
  // by the end of the bucket (so a stall shows as a ramp, not as a gap with no completions),
  // and the throughput (completions).
  std::map<long long, std::pair<double, long long>> buckets;
  for (const auto& s : all) {
    double end = s.at_ms + s.latency_ms;
    for (auto b = static_cast<long long>(s.at_ms / 100); b <= static_cast<long long>(end / 100);
         ++b) {
      double waited = std::min(end, (b + 1) * 100.0) - s.at_ms;
      buckets[b].first = std::max(buckets[b].first, waited);
    }
    buckets[static_cast<long long>(end / 100)].second++;
  }
  std::ofstream dat(fs::path(flags.out) / (sc.id + "_" + mode + ".dat"));
  dat << "# t_s worst_wait_ms queries_per_s\n";
  long long last = static_cast<long long>(end_ms / 100);
  for (long long b = 0; b <= last; ++b) {
    auto it = buckets.find(b);
    dat << b / 10.0 << " " << (it == buckets.end() ? 0 : it->second.first) << " "
        << (it == buckets.end() ? 0 : it->second.second * 10) << "\n";
  }

  // What the schema looks like afterwards: did the migration stay half-applied?
  auto check = Open(url, "stall-meter");
  auto columns = check->Query(
      "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = "
      "'t'::regclass AND attnum > 0 AND NOT attisdropped");
  auto constraints = check->Query(
      "SELECT coalesce(string_agg(conname, ','), '') FROM pg_constraint WHERE conrelid = "
      "'t'::regclass AND contype = 'c'");
  auto indexes = check->Query(
      "SELECT coalesce(string_agg(c.relname || CASE WHEN i.indisvalid THEN '' ELSE ' (INVALID)' "
      "END, ','), '') FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid "
      "= 't'::regclass AND NOT i.indisprimary");

  nlohmann::json j = {
      {"scenario", sc.id},
      {"title", sc.title},
      {"mode", mode},
      {"clients", flags.clients},
      {"rows", flags.rows},
      {"queries", all.size()},
      {"failed_queries", failed},
      {"throughput_per_s", all.size() / (end_ms / 1000.0)},
      {"p50_ms", Percentile(latencies, 0.50)},
      {"p99_ms", Percentile(latencies, 0.99)},
      {"max_ms", Percentile(latencies, 1.0)},
      {"longest_stall_ms", LongestStall(all)},
      {"blocker", sc.blocker},
      {"blocker_start_s", blocker_start / 1000},
      {"blocker_end_s", blocker_end / 1000},
      {"migration_start_s", migration_start / 1000},
      {"migration_end_s", migration_end / 1000},
      {"migration_exit_code", result.ok() ? result->exit_code : -1},
      {"columns_after", columns.ok() ? columns->Get(0, 0) : ""},
      {"check_constraints_after", constraints.ok() ? constraints->Get(0, 0) : ""},
      {"indexes_after", indexes.ok() ? indexes->Get(0, 0) : ""},
  };
  if (result.ok()) {
    if (mode == "tandem") {
      auto report = nlohmann::json::parse(result->out, nullptr, false);
      if (!report.is_discarded()) j["tandem_report"] = report;
    } else {
      j["psql_output"] = result->out + result->err;
    }
  }
  std::ofstream(fs::path(flags.out) / (sc.id + "_" + mode + ".json")) << j.dump(2) << "\n";
  std::cerr << "   exit " << j["migration_exit_code"] << ", " << j["queries"] << " queries, p50 "
            << j["p50_ms"] << " ms, p99 " << j["p99_ms"] << " ms, max " << j["max_ms"]
            << " ms, longest stall " << j["longest_stall_ms"] << " ms, failed "
            << j["failed_queries"] << "\n";
  check.reset();
  Must(admin.Exec("DROP DATABASE " + db), "drop database");
  return j;
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--tandem")
      f.tandem = fs::absolute(v).string();
    else if (k == "--psql")
      f.psql = v;
    else if (k == "--out")
      f.out = fs::absolute(v).string();
    else if (k == "--rows")
      f.rows = std::stoll(v);
    else if (k == "--clients")
      f.clients = std::stoi(v);
    else if (k == "--blocker-seconds")
      f.blocker_seconds = std::stoi(v);
    else if (k == "--lock-timeout")
      f.lock_timeout = v;
    else if (k == "--scenarios") {
      f.scenarios.clear();
      std::stringstream ss(v);
      for (std::string s; std::getline(ss, s, ',');) f.scenarios.push_back(s);
    } else {
      std::cerr << "stall_meter: unknown option " << k << "\n";
      std::exit(2);
    }
  }
  return f;
}

}  // namespace
}  // namespace tandem::bench

int main(int argc, char** argv) {
  using namespace tandem;
  bench::Flags flags = bench::ParseFlags(argc, argv);
  std::filesystem::create_directories(flags.out);
  pg::EmbeddedOptions options;
  options.settings = {"max_connections=50", "shared_buffers=256MB"};
  auto server = pg::EmbeddedServer::Start(options);
  if (!server.ok()) {
    std::cerr << "stall_meter: " << server.status().ToString() << "\n";
    return 1;
  }
  auto admin = bench::Open((*server)->Url("postgres"), "stall-meter");
  std::cerr << "building stall_base with " << flags.rows << " rows\n";
  bench::Must(admin->Exec("CREATE DATABASE stall_base"), "create database");
  {
    auto base = bench::Open((*server)->Url("stall_base"), "stall-meter");
    bench::Must(base->Exec("CREATE TABLE t (id bigint PRIMARY KEY, v int NOT NULL, "
                           "payload text NOT NULL)"),
                "create table");
    bench::Must(base->Exec("INSERT INTO t SELECT g, g % 1000, md5(g::text) FROM "
                           "generate_series(1, $1::bigint) g",
                           {std::to_string(flags.rows)}),
                "fill table");
    bench::Must(base->Exec("VACUUM ANALYZE t"), "vacuum");
  }
  nlohmann::json summary = {{"server_version", (*server)->version()},
                            {"rows", flags.rows},
                            {"clients", flags.clients},
                            {"blocker_seconds", flags.blocker_seconds},
                            {"lock_timeout", flags.lock_timeout},
                            {"runs", nlohmann::json::array()}};
  for (const auto& sc : bench::Scenarios()) {
    if (std::find(flags.scenarios.begin(), flags.scenarios.end(), sc.id) == flags.scenarios.end())
      continue;
    for (const char* mode : {"naive", "tandem"}) {
      nlohmann::json run = bench::RunOne(flags, sc, mode, **server, *admin);
      run.erase("tandem_report");
      run.erase("psql_output");
      summary["runs"].push_back(run);
    }
  }
  std::ofstream(std::filesystem::path(flags.out) / "summary.json") << summary.dump(2) << "\n";
  std::cout << summary.dump(2) << "\n";
  return 0;
}
