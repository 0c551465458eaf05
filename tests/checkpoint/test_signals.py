"""Signals (docs/reliability.md, "Signals and checkpoints"): SIGUSR1 (Slurm's warning) and
SIGTERM stop a run at its next safe point with a checkpoint and exit 75, and --resume then
writes the uninterrupted run's output; SIGTERM or SIGINT to the launcher leaves nothing at
the output and exits non-zero (MPICH's hydra forwards the signal and pearl's message comes
through; Open MPI's mpirun SIGKILLs the ranks a second after forwarding SIGTERM, and prints
nothing itself)."""
import os
import re
import signal
import time
import unittest

from checkpoint_testlib import (JOBS, assert_same_output, is_mpich, rank_pids, saved_operations, start_held,
                                wait_for_saved)
from pearl_testing import pearl
from test_checkpoint import RANKS, CheckpointTest

JOB = "health.outbreak"


class CheckpointOnSignal(CheckpointTest):
    def stop_and_resume(self, name, send, hold=60):
        """Starts JOB held after its first save, calls send(process, out), expects exit 75
        with a checkpoint, then resumes to the reference output."""
        out = self.out(name)
        p = start_held([JOB, *JOBS[JOB](self.data)], out, RANKS, hold=hold)
        wait_for_saved(p, out, 1)
        send(p, out)
        _, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 75, err)
        self.assertRegex(err, r"pearl: error: (rank \d+: )?stopped by SIG(USR1|TERM) at a safe point; nothing was written")
        self.assertIn("run the same command with --resume", err)
        self.assertFalse(os.path.exists(out))
        self.assertEqual(saved_operations(out)[:1], [0])
        r = pearl("run", JOB, *JOBS[JOB](self.data), "--output", out, "--resume", ranks=RANKS, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("resume: operation 0 (reduce_by_key) restored", r.stderr)
        assert_same_output(self, out, self.reference[JOB])

    def test_sigusr1_to_the_launcher_checkpoints_and_exits_75(self):
        # Both launchers forward SIGUSR1 to every rank (Slurm's batch script sends it to the step).
        self.stop_and_resume("usr1.h5", lambda p, out: os.kill(p.pid, signal.SIGUSR1))

    def test_sigterm_to_every_rank_checkpoints_and_exits_75(self):
        # What srun and Slurm's time limit do: SIGTERM to each task.
        def send(p, out):
            pids = rank_pids(out)
            self.assertEqual(len(pids), RANKS)
            for pid in pids:
                os.kill(pid, signal.SIGTERM)
        self.stop_and_resume("term-ranks.h5", send)

    def test_sigterm_to_one_rank_stops_them_all(self):
        # The other rank learns of it at the next agreement, after its own hold (10 s).
        self.stop_and_resume("term-one.h5", lambda p, out: os.kill(rank_pids(out)[-1], signal.SIGTERM), hold=10)


class SignalToTheLauncher(CheckpointTest):
    def test_sigterm_and_sigint_leave_nothing_at_the_output(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=sig.name):
                out = self.out(f"launcher-{sig.name}.h5")
                p = start_held([JOB, *JOBS[JOB](self.data)], out, RANKS)
                wait_for_saved(p, out, 1)
                os.kill(p.pid, sig)
                _, err = p.communicate(timeout=120)
                self.assertNotEqual(p.returncode, 0, err)
                if is_mpich():
                    # hydra forwards the signal and waits: pearl stops, checkpoints, says so.
                    self.assertEqual(p.returncode, 75, err)
                    self.assertIn(f"stopped by {sig.name} at a safe point; nothing was written to {out}", err)
                time.sleep(3)  # Open MPI: mpirun is gone at once, its ranks get SIGKILL after 1 s
                self.assertEqual(rank_pids(out), [], "no rank outlives the launcher")
                self.assertFalse(os.path.exists(out), "nothing at the output")
                self.assertFalse([n for n in os.listdir(self.tmp.name) if n.startswith(f".{os.path.basename(out)}.tmp")],
                                 "no temporary output left")
                # Whatever the launcher did, the checkpoint resumes to the uninterrupted output.
                r = pearl("run", JOB, *JOBS[JOB](self.data), "--output", out, "--resume", ranks=RANKS, timeout=300)
                self.assertEqual(r.returncode, 0, r.stderr)
                assert_same_output(self, out, self.reference[JOB])


class StopWithoutCheckpoint(CheckpointTest):
    def test_a_run_with_checkpoints_off_stops_with_exit_1(self):
        out = self.out("off.h5")
        # Held nowhere (no checkpoint): signal it once every rank is inside the run. A rank
        # prints progress only there (--verbose: every rank; a line each 0.05 s); before it,
        # a signal ends the process at once (still starting: nothing to save or say).
        p = start_held([JOB, *JOBS[JOB](self.data), "--verbose", "--progress-every", "0.05"], out, RANKS,
                       every="off", hold=0)
        seen, head = set(), []
        while len(seen) < RANKS:
            line = p.stderr.readline()
            if not line:
                break
            head.append(line)
            m = re.match(r"pearl: progress: (?:rank (\d+): )?", line)
            if m:
                seen.add(int(m.group(1) or 0))
        os.kill(p.pid, signal.SIGUSR1)
        _, rest = p.communicate(timeout=120)
        err = "".join(head) + rest
        if p.returncode == 0:
            self.skipTest("the run finished before the signal arrived")
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("stopped by SIGUSR1", err)
        self.assertIn("no checkpoint to resume from", err)
        self.assertFalse(os.path.exists(out))
        self.assertFalse(os.path.exists(out + ".checkpoint"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
