// Child processes for `pearl pipeline run`.
#include "pipeline_spawn.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "pearl/core/error.hpp"

extern char** environ;

namespace pearl::cluster::pipeline {

namespace {

/// Variables an MPI launcher or singleton puts in a process's environment: a child that
/// inherited them would believe it is a rank of our job.
bool mpi_job_variable(const std::string& kv) {
  static const char* const prefixes[] = {"PMIX_",         "PMI_",        "HYDRA_",       "HYDI_",
                                         "OMPI_COMM_",    "OMPI_MCA_orte_", "OMPI_MCA_ess", "OMPI_MCA_pmix",
                                         "OMPI_APP_",     "OMPI_FIRST_", "OMPI_UNIVERSE_", "OMPI_NUM_APP",
                                         "OMPI_FILE_",    "OMPI_MCA_initial_wdir", "OMPI_MCA_mpi_", "MPI_LOCAL"};
  for (const char* p : prefixes) {
    if (kv.rfind(p, 0) == 0) return true;
  }
  return false;
}

std::vector<std::string> copy_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

/// Taken during static initialisation, before main() starts MPI.
const std::vector<std::string> g_startup_environment = copy_environment();

}  // namespace

std::string self_exe() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

int run_logged(const std::vector<std::string>& argv, const std::vector<std::string>& env_extra, const std::string& log) {
  std::vector<std::string> env;
  for (const auto& kv : g_startup_environment) {
    if (mpi_job_variable(kv)) continue;
    bool replaced = false;
    for (const auto& x : env_extra) replaced = replaced || kv.substr(0, kv.find('=') + 1) == x.substr(0, x.find('=') + 1);
    if (!replaced) env.push_back(kv);
  }
  env.insert(env.end(), env_extra.begin(), env_extra.end());
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, cargv[0], &actions, nullptr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw Error("cannot start " + argv[0] + ": " + std::strerror(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error("waiting for " + argv[0] + ": " + std::strerror(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace pearl::cluster::pipeline
