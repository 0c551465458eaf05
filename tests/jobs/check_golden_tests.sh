#!/usr/bin/env bash
# Fails when a job that `pearl jobs` lists (built-in jobs: plugins are not loaded here)
# has no golden test, i.e. no pearl_add_job_test(<job> <script>) in tests/jobs or in the
# job's folder. The list of jobs with a test is written by tests/jobs/CMakeLists.txt.
set -u
pearl=${1:?usage: check_golden_tests.sh PEARL_BIN JOBS_WITH_TESTS_FILE}
tested=${2:?}
status=0
jobs=$(env -u PEARL_PLUGIN_PATH "$pearl" jobs | awk '{print $1}') || { echo "'pearl jobs' failed"; exit 1; }
[ -n "$jobs" ] || { echo "'pearl jobs' listed no jobs"; exit 1; }
for job in $jobs; do
  if ! grep -qxF "$job" "$tested"; then
    echo "job '$job' has no golden test: add pearl_add_job_test($job test_<name>.py) to its folder's CMakeLists.txt"
    status=1
  fi
done
[ $status -eq 0 ] && echo "every job has a golden test ($(echo $jobs | wc -w) jobs)"
exit $status
