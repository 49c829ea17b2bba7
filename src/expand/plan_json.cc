// The plan as JSON: stored in tandem.online_migrations when the expand starts, and printed by
// `tandem plan --format json`. One shape for both.
#include <nlohmann/json.hpp>

#include "expand/plan.h"

namespace tandem::expand {
namespace {

nlohmann::json StepJson(const Step& s) {
  return {{"name", s.name},
          {"sql", s.sql},
          {"transactional", s.transactional},
          {"lock", s.lock},
          {"duration", s.duration},
          {"undo", s.undo},
          {"undo_transactional", s.undo_transactional},
          {"scan", s.scan},
          {"index", s.index}};
}

Step StepOf(const nlohmann::json& j) {
  Step s;
  s.name = j.value("name", "");
  s.sql = j.value("sql", std::vector<std::string>{});
  s.transactional = j.value("transactional", true);
  s.lock = j.value("lock", "");
  s.duration = j.value("duration", "");
  s.undo = j.value("undo", std::vector<std::string>{});
  s.undo_transactional = j.value("undo_transactional", true);
  s.scan = j.value("scan", false);
  s.index = j.value("index", "");
  return s;
}

}  // namespace

std::string PlanToJson(const Plan& plan) {
  nlohmann::json j;
  j["version"] = plan.version;
  j["name"] = plan.name;
  j["operations"] = nlohmann::json::array();
  for (const OperationSummary& o : plan.operations) {
    j["operations"].push_back({{"statement", o.statement},
                               {"kind", o.kind},
                               {"old_app", o.old_app},
                               {"new_app", o.new_app}});
  }
  j["expand"] = nlohmann::json::array();
  for (const Step& s : plan.expand) j["expand"].push_back(StepJson(s));
  if (plan.backfill) {
    j["backfill"] = {
        {"table", plan.backfill->table},
        {"sql", plan.backfill->sql},
        {"key", "ctid"},
        {"lock", "ROW EXCLUSIVE on " + plan.backfill->table + ", one short transaction per batch"}};
  } else {
    j["backfill"] = nullptr;
  }
  j["contract"] = nlohmann::json::array();
  for (const Step& s : plan.contract) j["contract"].push_back(StepJson(s));
  j["new_app_search_path"] =
      plan.new_app_search_path ? nlohmann::json(*plan.new_app_search_path) : nlohmann::json();
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Plan> PlanFromJson(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Failed("the stored plan of an online migration is not valid JSON");
  }
  Plan plan;
  plan.version = j.value("version", "");
  plan.name = j.value("name", "");
  for (const auto& o : j.value("operations", nlohmann::json::array())) {
    plan.operations.push_back({o.value("statement", ""), o.value("kind", ""),
                               o.value("old_app", ""), o.value("new_app", "")});
  }
  for (const auto& s : j.value("expand", nlohmann::json::array())) plan.expand.push_back(StepOf(s));
  if (j.contains("backfill") && j["backfill"].is_object()) {
    plan.backfill = Backfill{j["backfill"].value("table", ""), j["backfill"].value("sql", "")};
  }
  for (const auto& s : j.value("contract", nlohmann::json::array()))
    plan.contract.push_back(StepOf(s));
  if (j.contains("new_app_search_path") && j["new_app_search_path"].is_string()) {
    plan.new_app_search_path = j["new_app_search_path"].get<std::string>();
  }
  return plan;
}

}  // namespace tandem::expand
