// A job built out of tree against the installed package: the job API needs pearl::core only.
#include "pearl/job.hpp"
struct J final : pearl::Job {
  std::string name() const override { return "x.y"; }
  std::string summary() const override { return "s"; }
  void declare(pearl::JobSpec&) override {}
  void run(pearl::JobContext&) override {}
};
PEARL_REGISTER_JOB(J);
