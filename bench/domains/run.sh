#!/usr/bin/env bash
# bench/domains/run.sh — every built-in domain job (health.incidence, health.outbreak,
# health.risk_model, social.compliance, social.anomalies, social.unemployment, transport.od,
# transport.flow) at 1 and 2 ranks against its golden test's reference implementation
# (pandas; statsmodels for risk_model; R surveillance for outbreak) on the same
# data.generate shards; checks that the results agree as the golden tests compare them and
# prints wall time, peak RSS (per rank) and the ratios pandas / pearl (docs/performance.md,
# "Domain jobs against their references (bench/domains)").
#
#   bench/domains/run.sh                                  # 4M rows per domain, ~10-20 minutes
#   bench/domains/run.sh --rows 20000                     # the smoke size (ctest bench.domains.smoke)
#   bench/domains/run.sh --data /work/data/d4m --jobs health.incidence,transport.od --repeat 3
#   bench/domains/run.sh --check-targets                  # exit 1 also below 10x (2 ranks) / 5x (1 rank)
#
# Options and environment: bench/domains/run.sh --help (domains.py). Needs Debian's
# /usr/bin/python3 (h5py, pandas, scipy, statsmodels) and Rscript with surveillance.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec "${PYTHON:-/usr/bin/python3}" "$here/domains.py" "$@"
