#!/usr/bin/env bash
# Fails when a job that `pearl jobs` lists has no golden test registered in
# tests/jobs/CMakeLists.txt (pearl_add_job_test(<job> ...)).
set -u
pearl=${1:?usage: check_golden_tests.sh PEARL_BIN TESTS_CMAKELISTS}
registry=${2:?}
status=0
for job in $("$pearl" jobs | awk '{print $1}'); do
  if ! grep -qE "pearl_add_job_test\(\s*${job//./\\.}\s" "$registry"; then
    echo "job '$job' has no golden test: add pearl_add_job_test($job <script>) to $registry"
    status=1
  fi
done
[ $status -eq 0 ] && echo "every job has a golden test"
exit $status
