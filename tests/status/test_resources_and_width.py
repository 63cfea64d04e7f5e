"""Per-job resource use (seff's CPU efficiency, MaxRSS, GPU TRES), the trainer's peak GPU memory,
evaluation progress per set, live-only pending reasons, and the table's width when piped or asked."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from typer.testing import CliRunner

from taiyi_core.rundir import RunDir
from taiyi_core.status import cli, slurm
from taiyi_core.status.collect import collect
from taiyi_core.status.join import build_status

from .conftest import write_manifest
from .test_slurm_live import _cluster_or_skip, _sbatch


def _jobs(fixture_run):
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query))
    return st, {j.job_id: j for s in st.steps for j in s.jobs}


def test_step_rows_fold_into_their_job():
    text = (
        "7|7|COMPLETED|0:0|100|10|1|billing=2,cpu=2,node=1|None|t|t|t|01:20.500||\n"
        "7.batch|7.batch|COMPLETED|0:0|100||1|cpu=2,mem=0,node=1|||||01:20.500|2048K|cpu=00:01:20,mem=2048K\n"
        "7.0|7.0|COMPLETED|0:0|99||1|cpu=2,gres/gpu=1,node=1|||||00:00:00|1G|gres/gpumem=1536M,gres/gpuutil=40\n"
    )
    (row,) = slurm.parse_sacct(text)
    assert row.job_id == "7" and row.total_cpu_s == pytest.approx(80.5)
    assert (
        row.max_rss_gb == pytest.approx(1.0) and row.gpu_mem_gb == pytest.approx(1.5) and row.gpu_util == 40
    )
    assert slurm.parse_cpu_time("1-02:03:04.250") == pytest.approx(93784.25)


def test_cpu_efficiency_peak_memory_and_gpu_tres(fixture_run):
    st, jobs = _jobs(fixture_run)
    assert jobs["48151_0"].cpu_efficiency == pytest.approx(1320 / (412 * 4), abs=1e-4)
    assert jobs["48151_0"].max_rss_gb == pytest.approx(3.0)  # 3145728K, the peak over batch + extern
    j = jobs["48200"]
    assert j.cpu_efficiency == pytest.approx(4 * 86400 / (25200 * 64), abs=1e-4)
    assert (
        j.max_rss_gb == pytest.approx(48.0)
        and j.gpu_mem_gb == pytest.approx(62500 / 1024)
        and j.gpu_util == 94
    )
    assert jobs["48151_1"].cpu_efficiency is None  # no TotalCPU recorded: unknown, not 0
    stage = {s.name: s for s in st.steps}
    assert stage["stage2"].progress.peak_gpu_mem_gb == pytest.approx(61.2)  # the trainer's own number


def test_only_waiting_jobs_show_a_pending_reason(fixture_run):
    _, jobs = _jobs(fixture_run)
    assert jobs["48190"].state == "COMPLETED" and jobs["48190"].reason is None  # sacct says "Dependency"
    assert jobs["48400"].state == "PENDING" and jobs["48400"].reason == "Dependency"


def test_eval_progress_per_set(fixture_run):
    root = fixture_run.run.root
    (root / "data" / "eval").mkdir(parents=True)
    (root / "data" / "eval" / "NCBI-disease.jsonl").write_text("".join(f'{{"id": {i}}}\n' for i in range(10)))
    (root / "data" / "eval" / "BC5CDR-Chem.jsonl").write_text("".join(f'{{"id": {i}}}\n' for i in range(6)))
    (root / "eval" / "NCBI-disease").mkdir()
    (root / "eval" / "NCBI-disease" / "predictions.jsonl").write_text('{"id": 0}\n{"id": 1}\n{"id": 2}\n')
    (root / "eval" / "BC5CDR-Chem" / "predictions.jsonl").write_text(
        "".join(f'{{"id": {i}}}\n' for i in range(6))
    )
    (root / "preset.yaml").write_text("eval:\n  limit: 5\n")
    st, _ = _jobs(fixture_run)
    prog = {p.dataset: (p.written, p.total, p.scored) for p in st.eval_progress}
    assert prog["NCBI-disease"] == (3, 5, False) and prog["BC5CDR-Chem"] == (6, 5, True)


def _local_run(tmp_path) -> RunDir:
    run = RunDir(tmp_path / "runs" / "wide").ensure()
    write_manifest(run, [("data", "999999991", "a-dataset-with-a-long-name", None)], executor="local")
    return run


def test_piped_output_is_wide_and_width_is_obeyed(tmp_path, monkeypatch):
    run = _local_run(tmp_path)
    monkeypatch.delenv("COLUMNS", raising=False)
    res = CliRunner().invoke(cli.app, [str(run.root)])  # CliRunner's stdout is not a terminal
    assert res.exit_code == 0, res.output
    widths = [len(line) for line in res.output.splitlines()]
    assert max(widths) > 80 and "a-dataset-with-a-long-name" in res.output  # not folded to 80
    res = CliRunner().invoke(cli.app, [str(run.root), "--width", "100"])
    assert res.exit_code == 0 and max(len(line) for line in res.output.splitlines()) <= 100


@pytest.mark.slurm
def test_live_sacct_resource_columns(tmp_path):
    """A CPU-bound job on the dev cluster: accounting's TotalCPU gives a CPU efficiency near 100%."""
    _cluster_or_skip()
    run = RunDir(tmp_path / "runs" / "live-res").ensure()
    folder = run.logs("data")
    folder.mkdir(parents=True)
    jid = _sbatch(
        folder, "-c", "1", wrap="python3 -c 'import time; t=time.time()\nwhile time.time()-t<3: pass'"
    )
    write_manifest(run, [("data", jid, "burn", None)])
    deadline = time.time() + 60
    while True:
        st = build_status(collect(run))
        (job,) = st.steps[0].jobs
        if (job.state == "COMPLETED" and job.cpu_efficiency is not None) or time.time() > deadline:
            break
        time.sleep(1.0)
    subprocess.run(["scancel", jid], capture_output=True, timeout=30)
    assert job.state == "COMPLETED", job
    assert 0.3 < job.cpu_efficiency <= 1.5, job  # elapsed is whole seconds, CPU time is not
    obj = json.loads(json.dumps(cli.to_dict(st)))
    assert obj["steps"][0]["jobs"][0]["cpu_efficiency"] == job.cpu_efficiency and obj["errors"] == []


def test_real_devcluster_capture_with_steps():
    """Captured on the dev cluster (sacct_argv's fields): a 40 s srun step holding 300 MB, busy."""
    from .conftest import DATA

    (row,) = slurm.parse_sacct((DATA / "sacct_devcluster_steps.txt").read_text())
    assert row.job_id == "109" and row.state == "COMPLETED" and row.elapsed_s == 41
    assert row.max_rss_gb == pytest.approx(320604 / 1024**2)  # the srun step's MaxRSS, not the batch's
    assert row.total_cpu_s == pytest.approx(37.295) and row.gpu_mem_gb is None  # no GPU accounting here
