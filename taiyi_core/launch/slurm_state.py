"""SLURM job states: the one set of state words (launcher, resubmit and taiyi-status use these), and
the states of given jobs in one call (sacct when accounting answers, squeue otherwise)."""

from __future__ import annotations

import shutil
import subprocess

# Ended without success: resubmit redoes these, taiyi-status classifies why.
FAILED = frozenset(
    {"FAILED", "TIMEOUT", "OUT_OF_MEMORY", "PREEMPTED", "NODE_FAIL", "BOOT_FAIL", "DEADLINE", "CANCELLED"}
)
RUNNING = frozenset(
    {"RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED", "RESIZING", "STAGE_OUT", "SIGNALING"}
)
WAITING = frozenset({"PENDING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD"})
DONE = frozenset({"COMPLETED"})
# Not ended yet: a job queued behind it with afterok still waits for it.
NOT_ENDED = RUNNING | WAITING


def _run(cmd: list[str]) -> str | None:
    if shutil.which(cmd[0]) is None:
        return None
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def job_states(job_ids: list[str]) -> dict[str, str]:
    """Map job ids (``123`` or ``123_4``) to a SLURM state word; ids SLURM does not know are absent."""
    if not job_ids:
        return {}
    wanted = set(job_ids)
    states: dict[str, str] = {}
    text = _run(["sacct", "-n", "-P", "-X", "--format=JobID,State", "-j", ",".join(sorted(wanted))])
    if text is not None:
        for line in text.splitlines():
            jid, _, state = line.partition("|")
            if jid in wanted:
                states[jid] = state.split()[0] if state else "UNKNOWN"
    text = _run(["squeue", "-h", "-r", "-t", "all", "-o", "%i|%T", "-j", ",".join(sorted(wanted))])
    if text is not None:
        for line in text.splitlines():
            jid, _, state = line.partition("|")
            if jid in wanted:
                states[jid] = state.strip()  # slurmctld is fresher than accounting (which lags)
    return states
