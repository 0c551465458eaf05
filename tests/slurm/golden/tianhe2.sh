#!/bin/bash
# pearl batch job "agg": pearl run table.aggregate
# Written by `pearl submit` with profile tianhe2. It runs unchanged if submitted by
# hand (yhbatch @DIR@/logs/agg.sbatch) or, without a scheduler, with bash.
#
# What Slurm allocates (#SBATCH lines: read by yhbatch, comments to bash):
# name in the queue
#SBATCH --job-name=agg
# nodes, MPI ranks per node, cores per rank (OpenMP threads)
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=12
#SBATCH --cpus-per-task=2
# whole nodes (the site bills or requires them)
#SBATCH --exclusive
# time limit
#SBATCH --time=00:30:00
# partition
#SBATCH -p work
# log: stdout and stderr together, appended to by requeued runs
#SBATCH --output=@DIR@/logs/agg-%j.log
#SBATCH --open-mode=append
# warning signal to this script (B:) 600 s before the time limit; Slurm may send it up to 60 s earlier
#SBATCH --signal=B:USR1@600
# may be requeued (after a checkpoint at the time limit, or a node failure)
#SBATCH --requeue
#
# Time limit: Slurm signals this script (SIGUSR1) ahead of the limit; it passes the
# signal to pearl, which finishes its current batch, writes a checkpoint beside the
# output and exits 75. The script then requeues the job (at most 3 times)
# and the requeued run continues from the checkpoint with --resume.
#
# Failures: a run that fails for any reason but bad input (exit 1, a crash, a killed
# rank; not exit 2) is requeued too, at most 0 times (`pearl submit --retries`, a
# pipeline step's `retries`), and continues from its last periodic checkpoint.

# Site setup (from the profile): module system, compilers, MPI.
source /WORK/app/toolshs/cnmodule.sh

# Environment: threads per rank, their placement, and HDF5 on the parallel file system.
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-2}
export HDF5_USE_FILE_LOCKING=FALSE
export OMP_PROC_BIND=close
export OMP_PLACES=cores

cd @DIR@ || exit 1

pearl=@PEARL@
max_requeue=3
max_retries=0
restarts=${SLURM_RESTART_COUNT:-0}
# Slurm counts every requeue; the failures among them are tallied in a file beside the log.
tally=@DIR@/logs/.agg-${SLURM_JOB_ID:-none}.retries
failures=$(cat "$tally" 2>/dev/null || echo 0)
args=(run table.aggregate --input 'table=@DIR@/t-*.h5:/t' --by region --sum v --mean v --output @DIR@/out.h5 --threads 2)
# A requeued run (after a time-limit checkpoint, or a node failure) resumes, and so does
# a run submitted with PEARL_RESUME=1; with no checkpoint pearl starts over and says so.
if [ "$restarts" -gt 0 ] || [ "${PEARL_RESUME:-0}" = 1 ]; then args+=(--resume); fi

# Launcher: the first of the profile's candidates found on this node.
launcher=()
for candidate in yhrun srun; do
  if command -v "$candidate" >/dev/null; then launcher=("$candidate"); break; fi
done
if [ ${#launcher[@]} -eq 0 ]; then echo "pearl batch: none of yhrun srun found on $(hostname)" >&2; exit 1; fi
case "${launcher[0]}" in
  srun | yhrun) launcher+=(-c "${SLURM_CPUS_PER_TASK:-2}") ;;
  *)  # mpirun: Open MPI binds each rank to one core unless told each has several
    if "${launcher[0]}" --version 2>&1 | grep -q "Open MPI"; then
      launcher+=(--map-by "slot:PE=${SLURM_CPUS_PER_TASK:-2}" --bind-to core)
    fi ;;
esac

# The warning signal (or SIGTERM) goes to the batch shell only: pass it on to the job
# step as SIGUSR1 (pearl treats USR1 and TERM alike; mpirun and srun forward USR1 to the
# ranks, while SIGTERM to mpirun would kill them before they checkpoint).
step=""
forward() {
  echo "pearl batch: $(date -u +%FT%TZ) got SIG$1 (time limit near); asking pearl to checkpoint"
  if [ -n "$step" ]; then kill -USR1 "$step" 2>/dev/null; fi
}
trap 'forward USR1' USR1
trap 'forward TERM' TERM

echo "pearl batch: $(date -u +%FT%TZ) job ${SLURM_JOB_ID:-none} on ${SLURM_JOB_NODELIST:-$(hostname)}, run $((restarts + 1)) of at most $((max_requeue + 1))"
echo "pearl batch: ${launcher[*]} $pearl ${args[*]}"
"${launcher[@]}" "$pearl" "${args[@]}" &
step=$!
# `wait` returns early when a trapped signal arrives: wait again until the step is gone.
while :; do
  wait "$step"
  status=$?
  kill -0 "$step" 2>/dev/null || break
done

case $status in
  0) meaning="success" ;;
  1) meaning="failure (the error is above)" ;;
  2) meaning="usage or input error (the message above names the option, file or column)" ;;
  75) meaning="checkpointed before the time limit" ;;
  *) meaning="killed or crashed (above 128: signal $((status - 128)))" ;;
esac
echo "pearl batch: $(date -u +%FT%TZ) pearl exited with $status: $meaning"

requeue() {  # requeue this job, then end with the run's status
  for control in yhcontrol scontrol; do
    if command -v "$control" >/dev/null; then "$control" requeue "$SLURM_JOB_ID" && exit "$status"; fi
  done
  echo "pearl batch: requeue failed; 'PEARL_RESUME=1 yhbatch @DIR@/logs/agg.sbatch' continues from the checkpoint" >&2
}

if [ "$status" -eq 75 ]; then
  limits=$((restarts - failures))
  if [ -n "${SLURM_JOB_ID:-}" ] && [ "$limits" -lt "$max_requeue" ]; then
    echo "pearl batch: requeueing job $SLURM_JOB_ID (requeue $((limits + 1)) of $max_requeue)"
    requeue
  else
    echo "pearl batch: not requeued (${limits} of ${max_requeue} requeues used); 'PEARL_RESUME=1 yhbatch @DIR@/logs/agg.sbatch' continues" >&2
  fi
elif [ "$status" -ne 0 ] && [ "$status" -ne 2 ] && [ -n "${SLURM_JOB_ID:-}" ]; then
  if [ "$failures" -lt "$max_retries" ]; then
    echo $((failures + 1)) > "$tally"
    echo "pearl batch: retrying job $SLURM_JOB_ID after the failure (retry $((failures + 1)) of $max_retries)"
    requeue
  elif [ "$max_retries" -gt 0 ]; then
    echo "pearl batch: not retried (${failures} of ${max_retries} retries used)" >&2
  fi
fi
rm -f "$tally"
exit "$status"
