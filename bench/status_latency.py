"""How long does ``taiyi-status`` take for runs of 10, 100 and 500 jobs, and how does that compare with
asking SLURM once per job?

    .venv/bin/python bench/status_latency.py [--sizes 10 100 500] [--repeat 3] [--no-cluster]

With ``sbatch`` on PATH (the dev cluster): for each size N one held array job of N tasks is submitted,
a synthetic manifest (data/curate/stage1/stage2/eval layout) is pointed at its tasks, the full status
(one sacct + one squeue, join, render) is timed against the baseline that calls ``sacct`` once per job,
and the array is cancelled. Without SLURM: the same, with a stand-in ``sacct``/``squeue`` on PATH that
prints canned text in the exact requested format (so both paths pay the same process-spawn cost).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the synthetic run is a test helper
from taiyi_core.status.collect import collect, run_command  # noqa: E402
from taiyi_core.status.join import build_status  # noqa: E402
from taiyi_core.status.render_table import render  # noqa: E402
from taiyi_core.status.slurm import sacct_argv  # noqa: E402
from tests.status import synthetic  # noqa: E402


def _render_once(run) -> float:
    t0 = time.perf_counter()
    st = build_status(collect(run))
    Console(file=open(os.devnull, "w"), width=200).print(render(st))  # noqa: SIM115
    return time.perf_counter() - t0


def _per_job_baseline(job_ids: list[str]) -> float:
    t0 = time.perf_counter()
    for jid in job_ids:
        run_command(sacct_argv([jid]))
    return time.perf_counter() - t0


def _fake_slurm(bin_dir: Path, sacct_text: str, squeue_text: str) -> None:
    """Stand-in sacct/squeue: print the canned rows of the requested ids (grep on the array/job prefix)."""
    for name, text in (("sacct", sacct_text), ("squeue", squeue_text)):
        data = bin_dir / f"{name}.txt"
        data.write_text(text)
        script = bin_dir / name
        script.write_text(
            "#!/bin/sh\n"
            'ids=""; prev=""\n'
            'for a in "$@"; do [ "$prev" = "-j" ] && ids="$a"; prev="$a"; done\n'
            'echo "$ids" | tr , "\\n" | sed "s/_.*//" | sort -u | sed "s/^/^/; s/$/[_|]/"'
            f' > "{bin_dir}/{name}.pat"\n'
            f'grep -f "{bin_dir}/{name}.pat" "{data}" || true\n'
        )
        script.chmod(0o755)


def _point_at_array(run, array_id: str) -> list[str]:
    data = json.loads(run.manifest.read_text())
    ids = []
    for k, sub in enumerate(data["submissions"]):
        sub.update(job_id=f"{array_id}_{k}", array_job_id=array_id, array_index=k)
        ids.append(sub["job_id"])
    run.manifest.write_text(json.dumps(data))
    return ids


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-cluster", action="store_true", help="use canned text even where sbatch exists")
    args = ap.parse_args()
    cluster = shutil.which("sbatch") is not None and not args.no_cluster
    print(
        f"mode: {'dev cluster (real sacct/squeue)' if cluster else 'canned text via stand-in sacct/squeue'}"
    )
    print(f"{'jobs':>6} {'status s':>10} {'ms/job':>8} {'per-job sacct s':>16} {'ratio':>7}")
    base = Path(tempfile.mkdtemp(prefix="status-bench-"))
    prev: float | None = None
    try:
        for n in args.sizes:
            run, sacct_text, squeue_text = synthetic.make_run(base, n, seed=n)
            array = None
            if cluster:
                out = subprocess.run(
                    [
                        "sbatch",
                        "--parsable",
                        "--hold",
                        "-J",
                        "status-bench",
                        f"--array=0-{n - 1}",
                        "-o",
                        "/dev/null",
                        "--wrap",
                        "true",
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                array = out.stdout.strip().split(";")[0]
                ids = _point_at_array(run, array)
            else:
                bin_dir = base / f"bin-{n}"
                bin_dir.mkdir()
                _fake_slurm(bin_dir, sacct_text, squeue_text)
                os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
                ids = [s["job_id"] for s in json.loads(run.manifest.read_text())["submissions"]]
            try:
                _render_once(run)  # warm-up: imports, caches
                t = statistics.median(_render_once(run) for _ in range(args.repeat))
                b = _per_job_baseline(ids)
            finally:
                if array:
                    subprocess.run(["scancel", array], capture_output=True)
                if not cluster:
                    os.environ["PATH"] = os.environ["PATH"].split(os.pathsep, 1)[1]
            growth = f"  (x{t / prev:.2f} vs previous size)" if prev else ""
            print(f"{n:>6} {t:>10.3f} {1000 * t / n:>8.2f} {b:>16.3f} {b / t:>6.1f}x{growth}")
            prev = t
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
