"""Runs with no SLURM: real submitit local jobs, read from their folder alone; and the CLI."""

from __future__ import annotations

import json
import time

import pytest
import submitit
from typer.testing import CliRunner

from taiyi_core.rundir import RunDir
from taiyi_core.status import cli
from taiyi_core.status.collect import collect, read_result_pickle
from taiyi_core.status.join import build_status

from .conftest import write_manifest


def _never(ids):  # a local run must not ask SLURM anything
    raise AssertionError(f"SLURM queried for a local run: {ids}")


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("local")
    run = RunDir(base / "runs" / "demo-cpu").ensure()
    folder = run.logs("data")
    ex = submitit.LocalExecutor(folder=folder)
    ex.update_parameters(timeout_min=2)
    ok = ex.submit(sum, [1, 2, 3])
    bad = ex.submit(int, "not-a-number")
    slow = ex.submit(time.sleep, 60)
    assert ok.result() == 6
    with pytest.raises(submitit.core.utils.FailedJobError):
        bad.result()
    jobs = [
        ("data", ok.job_id, "BC5CDR", None),
        ("data", bad.job_id, "NCBI-disease", None),
        ("curate", slow.job_id, None, None),
    ]
    write_manifest(run, jobs, executor="local")
    # the curate job's folder is the executor's; write_manifest used logs/curate, so point it there
    data = json.loads(run.manifest.read_text())
    for sub in data["submissions"]:
        sub["folder"] = str(folder)
    run.manifest.write_text(json.dumps(data))
    yield run, ok, bad, slow
    slow.cancel(check=False)


def test_result_pickles_read_without_unpickling(local_run):
    run, ok, bad, _ = local_run
    assert read_result_pickle(ok.paths.result_pickle) == ("success", None)
    verdict, trace = read_result_pickle(bad.paths.result_pickle)
    assert verdict == "error" and "ValueError: invalid literal for int()" in trace


def test_local_run_from_the_run_directory_alone(local_run):
    run, ok, bad, slow = local_run
    st = build_status(collect(run, query=_never))
    assert st.mode == "local"
    jobs = {j.job_id: j for s in st.steps for j in s.jobs}
    assert jobs[ok.job_id].state == "COMPLETED" and jobs[ok.job_id].source == "rundir"
    assert jobs[bad.job_id].state == "FAILED"
    assert jobs[bad.job_id].failure.kind == "python_exception"
    assert "ValueError: invalid literal for int()" in jobs[bad.job_id].failure.summary
    assert jobs[bad.job_id].log.endswith(f"{bad.job_id}_0_log.err")
    assert jobs[slow.job_id].state == "RUNNING"  # no result yet, its process is alive
    for j in jobs.values():  # times from submitit's own log lines, not approximations
        assert j.elapsed_s is not None and j.elapsed_source == "submitit_log" and not j.elapsed_approximate
        assert j.started_at is not None
    done = jobs[ok.job_id]
    assert done.ended_at is not None and done.started_at <= done.ended_at and done.elapsed_s < 60
    assert jobs[slow.job_id].ended_at is None  # still running: elapsed runs to now


def test_cli_json_table_and_html(local_run, tmp_path):
    run, ok, bad, _ = local_run
    runner = CliRunner()
    res = runner.invoke(cli.app, ["--runs-root", str(run.root.parent), "--json"])  # newest run = this one
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert obj["run"] == "demo-cpu" and obj["mode"] == "local"
    assert obj["totals"]["states"] == {"COMPLETED": 1, "FAILED": 1, "RUNNING": 1}
    job = next(j for s in obj["steps"] for j in s["jobs"] if j["job_id"] == ok.job_id)
    assert job["elapsed_source"] == "submitit_log" and job["elapsed_approximate"] is False
    assert isinstance(job["elapsed_s"], int) and job["started_at"].endswith("+00:00")
    html = tmp_path / "report.html"
    res = runner.invoke(cli.app, [str(run.root), "--html", str(html)], env={"COLUMNS": "250"})
    assert res.exit_code == 0, res.output
    assert "python_exception" in res.stdout and html.exists() and "<table" in html.read_text()
    assert "title='submitit_log'" in html.read_text()


def test_cli_errors_are_clear(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli.app, ["--runs-root", str(tmp_path)])
    assert res.exit_code == 1 and "no runs under" in res.output
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text('{"version": 1}')
    res = runner.invoke(cli.app, ["broken", "--runs-root", str(tmp_path)])  # a damaged run is still shown
    assert res.exit_code == 0 and "not a valid run manifest" in res.output and "manifest.json" in res.output
    res = runner.invoke(cli.app, ["nosuchrun", "--runs-root", str(tmp_path)])
    assert res.exit_code == 1 and "no such run" in res.output
    res = runner.invoke(cli.app, ["x", "--watch", "--json"])
    assert res.exit_code == 2


def test_watch_refreshes_then_exits_cleanly_on_ctrl_c(local_run, monkeypatch):
    run = local_run[0]
    calls = []

    def fake_sleep(seconds):
        calls.append(seconds)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli.time, "sleep", fake_sleep)
    res = CliRunner().invoke(cli.app, [str(run.root), "--watch", "--interval", "0.1"])
    assert res.exit_code == 0, res.output
    assert calls == [cli.MIN_INTERVAL_S, cli.MIN_INTERVAL_S]  # the interval is bounded below
    assert "stopped watching" in res.output
