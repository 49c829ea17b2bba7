// Two concurrent clients for the expand/contract tests: the old app and the new app, each on
// its own connection (the new app with the search_path the plan asks for), each writing and
// reading its own rows through its own names in a loop until stopped. A failed query is
// counted and kept; every value written is remembered, so that a test can check that each row
// ends holding the last value its app wrote.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pg/connection.h"
#include "pg/url.h"

namespace tandem::expand::testing {

struct AppSql {
  std::string update;      // $1 value, $2 id
  std::string read;        // $1 id -> the value as text
  std::string insert;      // $1 value -> RETURNING id
  std::string select_all;  // SELECT * ... LIMIT 1: a query that must keep working
};

class App {
 public:
  App(std::string url, std::string search_path, AppSql sql, int first_id, int last_id)
      : url_(std::move(url)),
        search_path_(std::move(search_path)),
        sql_(std::move(sql)),
        first_(first_id),
        last_(last_id) {}
  ~App() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Loop(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Waits until at least `n` more rounds have run (so that a step is overlapped by queries).
  void WaitRounds(int n) {
    long long target = rounds_ + n;
    while (rounds_ < target && !stop_) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  int failures() const { return failures_; }
  long long rounds() const { return rounds_; }
  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(mutex_);
    return errors_;
  }
  // id -> the last value written (updates and inserts).
  std::map<long long, std::string> written() {
    std::lock_guard<std::mutex> lock(mutex_);
    return written_;
  }

 private:
  void Fail(const std::string& what) {
    ++failures_;
    std::lock_guard<std::mutex> lock(mutex_);
    if (errors_.size() < 20) errors_.push_back(what);
  }

  void Loop() {
    auto parsed = pg::ParseDatabaseUrl(url_);
    if (!parsed.ok()) return Fail(parsed.status().ToString());
    pg::ConnectOptions options;
    options.search_path = search_path_;
    auto opened = pg::Connection::Open(*parsed, options);
    if (!opened.ok()) return Fail(opened.status().ToString());
    pg::Connection& c = **opened;
    long long counter = 0;
    long long id = first_;
    while (!stop_) {
      ++counter;
      std::string value = std::to_string(first_ * 1000000LL + counter);
      if (Status s = c.Exec(sql_.update, {value, std::to_string(id)}); !s.ok()) {
        Fail("update: " + s.ToString());
      } else {
        std::lock_guard<std::mutex> lock(mutex_);
        written_[id] = value;
      }
      auto read = c.Query(sql_.read, {std::to_string(id)});
      if (!read.ok()) {
        Fail("read: " + read.status().ToString());
      } else {
        std::lock_guard<std::mutex> lock(mutex_);
        if (read->rows() != 1 || read->Get(0, 0) != written_[id]) {
          errors_.push_back("read back " + (read->rows() ? read->Get(0, 0) : "no row") +
                            " for id " + std::to_string(id) + ", wrote " + written_[id]);
          ++failures_;
        }
      }
      if (counter % 10 == 0) {
        auto inserted = c.Query(sql_.insert, {value});
        if (!inserted.ok()) {
          Fail("insert: " + inserted.status().ToString());
        } else {
          std::lock_guard<std::mutex> lock(mutex_);
          written_[inserted->GetInt(0, 0)] = value;
        }
        if (auto all = c.Query(sql_.select_all); !all.ok()) {
          Fail("select *: " + all.status().ToString());
        }
      }
      id = id >= last_ ? first_ : id + 1;
      ++rounds_;
    }
  }

  std::string url_, search_path_;
  AppSql sql_;
  long long first_, last_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> failures_{0};
  std::atomic<long long> rounds_{0};
  std::mutex mutex_;
  std::vector<std::string> errors_;
  std::map<long long, std::string> written_;
};

}  // namespace tandem::expand::testing
