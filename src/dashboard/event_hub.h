// The live updates behind GET /api/stream: what the dashboard learns from its LISTEN
// connections and refreshes, kept as a bounded list of numbered events that every open stream
// reads from. A browser tab costs no database work: the tabs read this list, the database is
// read once per target by the store (store.h).
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tandem::dashboard {

struct HubEvent {
  long long id = 0;
  std::string data;  // one JSON object, with "type" and "target"
};

class EventHub {
 public:
  explicit EventHub(size_t capacity = 2000) : capacity_(capacity) {}
  // Numbers the event and keeps it (the oldest dropped beyond capacity).
  void Publish(const nlohmann::json& event);
  // The events numbered after `after`, oldest first. A stream that fell behind by more than
  // the capacity gets what is left (the pages re-read the state on reconnect).
  std::vector<HubEvent> After(long long after) const;
  long long last_id() const;

 private:
  size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<HubEvent> events_;
  long long last_id_ = 0;
};

}  // namespace tandem::dashboard
