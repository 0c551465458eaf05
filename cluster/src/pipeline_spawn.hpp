// cluster/src/pipeline_spawn.hpp — runs a command as a child process with its output
// appended to a log file, in the environment pearl started with (before MPI_Init added
// its own variables, which would make a child `pearl` or `mpiexec` join this process's
// MPI job instead of starting its own).
#pragma once

#include <string>
#include <vector>

namespace pearl::cluster::pipeline {

/// Runs argv[0] (searched on PATH) with `argv`, extra "NAME=value" variables and output
/// to `log` (appended); waits and returns its exit code (128 + signal if killed).
/// Throws pearl::Error if it cannot be started.
int run_logged(const std::vector<std::string>& argv, const std::vector<std::string>& env_extra, const std::string& log);

/// The `pearl` program itself (/proc/self/exe).
std::string self_exe();

}  // namespace pearl::cluster::pipeline
