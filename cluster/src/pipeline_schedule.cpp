// `pearl pipeline schedule|unschedule`: a small batch job that waits for its --begin time,
// submits the pipeline (which submits nothing while the previous run is still going),
// then submits itself again for the same time the next day. Debian's Slurm has no
// scrontab, so the chain of jobs is the schedule. `--crontab` prints the cron line instead.
#include <filesystem>
#include <fstream>
#include <ostream>

#include "pearl/cluster/profile.hpp"
#include "pearl/cluster/scheduler.hpp"
#include "pearl/core/error.hpp"
#include "pipeline_run.hpp"
#include "process.hpp"

namespace fs = std::filesystem;

namespace pearl::cluster::pipeline {

namespace {

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string schedule_job_name(const Pipeline& p) { return "pearl-schedule-" + p.name; }

/// HH:MM, both in range, or InputError.
void check_time_of_day(const std::string& at) {
  const bool shape = at.size() == 5 && at[2] == ':' && std::isdigit(static_cast<unsigned char>(at[0])) &&
                     std::isdigit(static_cast<unsigned char>(at[1])) && std::isdigit(static_cast<unsigned char>(at[3])) &&
                     std::isdigit(static_cast<unsigned char>(at[4]));
  if (!shape || std::stoi(at.substr(0, 2)) > 23 || std::stoi(at.substr(3)) > 59) {
    throw InputError("--at " + at + ": give the time of day as HH:MM (e.g. 02:00)");
  }
}

std::string submit_line(const Pipeline& p, const std::string& profile, const std::vector<std::string>& sets) {
  std::string line = quoted(fs::read_symlink("/proc/self/exe").string()) + " pipeline submit " +
                     quoted(fs::absolute(p.file).string()) + " --profile " + quoted(profile);
  for (const auto& s : sets) line += " --set " + quoted(s);
  return line;
}

}  // namespace

int schedule(const Pipeline& p, const std::string& at, const std::string& profile_name,
             const std::vector<std::string>& sets, bool crontab, std::ostream& out) {
  check_time_of_day(at);
  const std::string profile = profile_name.empty() ? "slurm" : profile_name;
  const std::string cwd = fs::current_path().string();
  if (crontab) {
    out << std::stoi(at.substr(3)) << ' ' << std::stoi(at.substr(0, 2)) << " * * * cd " << quoted(cwd) << " && "
        << submit_line(p, profile, sets) << " >> " << quoted(fs::absolute(p.runs).string() + "/cron.log")
        << " 2>&1\n";
    return 0;
  }
  const Profile prof = load_profile(profile);
  const std::string sbatch = find_command(prof.submit);
  fs::create_directories(p.runs);
  const std::string script = fs::absolute(fs::path(p.runs) / "schedule.sbatch").string();
  std::ofstream f(script);
  f << "#!/bin/bash\n"
    << "# pearl pipeline schedule: submits pipeline " << p.name << " every day at " << at << ",\n"
    << "# then itself again for the next day. 'pearl pipeline unschedule " << p.file << "' stops it.\n"
    << "#SBATCH --job-name=" << schedule_job_name(p) << "\n#SBATCH --time=00:10:00\n#SBATCH --ntasks=1\n"
    << "#SBATCH --output=" << fs::absolute(p.runs).string() << "/schedule-%j.log\n";
  if (!prof.partition.empty()) f << "#SBATCH " << prof.partition_flag << "=" << prof.partition << '\n';
  if (!prof.account.empty()) f << "#SBATCH --account=" << prof.account << '\n';
  f << "cd " << quoted(cwd) << " || exit 1\n"
    << "# The next night first, so a failing submission does not end the schedule.\n"
    << quoted(sbatch) << " --begin=\"$(date -d 'tomorrow " << at << "' +%Y-%m-%dT%H:%M:%S)\" " << quoted(script)
    << "\n# Submits nothing while the previous run is still pending or running.\n"
    << submit_line(p, profile, sets) << "\n";
  f.close();
  if (!f) throw Error("cannot write " + script);
  const auto r = run_process({sbatch, "--parsable", "--begin=" + at, script});
  if (r.status != 0) throw Error("cannot submit the schedule job: " + r.err + r.out);
  out << "scheduled " << p.name << " daily at " << at << ": job " << r.out.substr(0, r.out.find_first_of(";\n"))
      << " (script " << script << ")\n";
  return 0;
}

int unschedule(const Pipeline& p, const std::string& profile_name, std::ostream& out) {
  const Profile prof = load_profile(profile_name.empty() ? "slurm" : profile_name);
  const auto r = run_process({find_command(prof.cancel), "--name=" + schedule_job_name(p)});
  if (r.status != 0) throw Error("cannot cancel the schedule job " + schedule_job_name(p) + ": " + r.err);
  out << "unscheduled " << p.name << " (cancelled jobs named " << schedule_job_name(p) << ")\n";
  return 0;
}

}  // namespace pearl::cluster::pipeline
