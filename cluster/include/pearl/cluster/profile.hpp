// pearl/cluster/profile.hpp — a cluster profile: how one site runs batch jobs.
//
// A profile is a small text file of `key = value` lines (slurm/profiles/NAME in the
// source tree, share/pearl/profiles/NAME once installed). It names the scheduler's
// commands (candidates probed in order: `yhbatch sbatch`), the launcher inside the
// allocation, the defaults a submission starts from, the lines that set up the site's
// environment, and environment variables for the job. A user profile overrides any field
// of the one it names with `base = NAME`:
//
//   # ~/.config/pearl/profiles/mine
//   base = tianhe2
//   partition = bigdata
//   time = 12:00:00
//
//   pearl::cluster::Profile p = pearl::cluster::load_profile("tianhe2");   // or a file path
//   p.submit        // {"yhbatch", "sbatch"}
//   p.origin_of("partition")   // "/opt/pearl/share/pearl/profiles/tianhe2:7"
//
// An unknown key or a bad value is an InputError (exit 2) naming the file and line.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace pearl::cluster {

struct Profile {
  std::string name;                 // what --profile named
  std::string description;          // one line, for `pearl profiles`
  std::string scheduler = "slurm";  // "slurm", or "none" (run under the launcher right away)

  // Scheduler commands: candidates probed in order on PATH; the first found is used.
  std::vector<std::string> submit{"sbatch"};
  std::vector<std::string> queue{"squeue"};
  std::vector<std::string> cancel{"scancel"};
  std::vector<std::string> control{"scontrol"};
  std::vector<std::string> accounting{"sacct"};

  // How ranks start inside the allocation: candidates ("yhrun srun", or "mpirun"), probed
  // in order by the batch script itself on the compute node, and their arguments.
  std::vector<std::string> launcher{"srun"};
  std::vector<std::string> launcher_args;

  // Defaults of a submission (the command line wins).
  std::string partition;           // empty: the cluster's default partition
  bool partition_required = false; // the site refuses jobs without one (Tianhe-2: -p)
  std::string account;
  int cores_per_node = 0;          // 0: unknown; used for ntasks-per-node when not given
  bool exclusive = false;          // whole nodes (billed whole on Tianhe)
  std::string time = "01:00:00";   // Slurm time limit
  std::string partition_flag = "--partition";  // "-p" where the site's manuals use it
  int signal_seconds = 300;        // warning signal this long before the time limit
  std::string signal = "USR1";     // the warning signal (pearl treats USR1 and TERM alike)
  std::string log_dir = "logs";    // batch logs, relative to the submit directory

  std::vector<std::string> setup;  // shell lines run first in the batch script (module loads)
  std::vector<std::pair<std::string, std::string>> environment;  // exported before the job

  std::map<std::string, std::string> origins;  // key -> "file:line" that set it last
  std::vector<std::string> files;              // the files read, base first

  /// Where `key` was set ("file:line"), or "built-in default".
  [[nodiscard]] std::string origin_of(const std::string& key) const;
};

/// The directory of pearl's installed data (profiles, batch template): $PEARL_SHARE_DIR,
/// else <dir of the running executable>/../share/pearl (true in the build tree and when
/// installed). Throws Error if neither exists.
std::filesystem::path share_dir();

/// Resolves a --profile value: a path (contains '/' or exists as a file), else
/// ~/.config/pearl/profiles/NAME, else share_dir()/profiles/NAME. Throws InputError for
/// an unknown profile (listing the known ones), or for a bad file (naming file:line).
Profile load_profile(const std::string& name_or_path);

/// Parses profile text over `base` (fields it sets override). `file` is for messages.
Profile parse_profile(const std::string& text, const std::string& file, Profile base);

/// Seconds in a Slurm time limit ("M", "M:S", "H:M:S", "D-H", "D-H:M", "D-H:M:S");
/// -1 if `text` is none of these.
long parse_slurm_time(const std::string& text);

/// Every profile visible: name -> file, user profiles shadowing shipped ones.
std::vector<std::pair<std::string, std::filesystem::path>> list_profiles();

}  // namespace pearl::cluster
