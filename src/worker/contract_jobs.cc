#include "worker/contract_jobs.h"

#include "expand/executor.h"
#include "jobs/transitions.h"

namespace tandem::worker {

ContractRun RunContractJob(pg::Connection& connection, const WorkerOptions& options,
                           const jobs::Job& job, Log& log) {
  ContractRun run;
  auto read = expand::ReadOnlineState(connection, options.schema, job.version);
  if (!read.ok()) {
    run.status = read.status();
    return run;
  }
  std::vector<expand::Step> steps;
  if (*read) {
    const expand::OnlineState& st = **read;
    steps = st.plan.contract;
    run.steps_total = static_cast<int>(steps.size());
    run.steps_done = st.contract_steps_done;
    // Queued before an abort that raced with it: the abort has undone the expand.
    if (st.state == "aborted") {
      run.aborted = true;
      return run;
    }
    if (st.state == "completed") {
      run.completed_already = true;
      return run;
    }
  }
  expand::ExecOptions exec;
  exec.schema = options.schema;
  exec.settings = options.release;
  exec.actor = options.actor;
  exec.after_step = [&](const std::string& stage, int step) {
    if (stage != "contract") return;
    run.steps_done = step;
    jobs::RecordStepsDone(connection, options.schema, job.id, step);
    std::string name =
        step >= 1 && step <= static_cast<int>(steps.size()) ? steps[step - 1].name : "";
    log.Info("job " + std::to_string(job.id) + ": contract step " + std::to_string(step) + " of " +
                 std::to_string(steps.size()) + " done",
             {{"job", job.id}, {"version", job.version}, {"step", step}, {"name", name}});
  };
  run.status = expand::Complete(connection, job.version, exec);
  if (connection.alive()) {
    if (auto again = expand::ReadOnlineState(connection, options.schema, job.version);
        again.ok() && *again) {
      run.steps_done = (*again)->contract_steps_done;
    }
  }
  return run;
}

}  // namespace tandem::worker
