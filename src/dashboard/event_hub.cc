#include "dashboard/event_hub.h"

namespace tandem::dashboard {

void EventHub::Publish(const nlohmann::json& event) {
  std::string data = event.dump();
  std::lock_guard<std::mutex> lock(mutex_);
  events_.push_back({++last_id_, std::move(data)});
  while (events_.size() > capacity_) events_.pop_front();
}

std::vector<HubEvent> EventHub::After(long long after) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<HubEvent> out;
  if (events_.empty() || events_.back().id <= after) return out;
  for (auto it = events_.rbegin(); it != events_.rend() && it->id > after; ++it) {
    out.push_back(*it);
  }
  return {out.rbegin(), out.rend()};
}

long long EventHub::last_id() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return last_id_;
}

}  // namespace tandem::dashboard
