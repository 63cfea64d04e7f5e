"""The three views (table, JSON, HTML) of one status agree with each other."""

from __future__ import annotations

import json
import re

from rich.console import Console

from taiyi_core.status.collect import collect
from taiyi_core.status.join import build_status
from taiyi_core.status.model import CommandResult
from taiyi_core.status.render_html import render_html
from taiyi_core.status.render_json import SCHEMA, VERSION, to_dict
from taiyi_core.status.render_table import render
from taiyi_core.status.slurm import sacct_argv, squeue_argv
from tests.status import synthetic


def _text(status, max_jobs=12) -> str:
    console = Console(record=True, width=240, color_system=None)
    console.print(render(status, max_jobs))
    return console.export_text()


def _table_counts(text: str) -> dict[str, dict[str, int]]:
    """Read back the step summary rows: '│ step │ STATE │ │ ... │ 3 COMPLETED, 1 FAILED │'."""
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) > 8 and cells[1] and cells[2] and cells[3] == "":
            counts = dict((s, int(n)) for n, s in re.findall(r"(\d+) ([A-Z_]+)", cells[8]))
            out[cells[1]] = {"state": cells[2], "counts": counts}
    return out


def test_json_and_table_agree(fixture_run):
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query))
    obj = json.loads(json.dumps(to_dict(st)))
    assert obj["schema"] == SCHEMA and obj["version"] == VERSION
    table = _table_counts(_text(st))
    assert set(table) == {s["name"] for s in obj["steps"]}
    for s in obj["steps"]:
        assert table[s["name"]]["state"] == s["state"], s["name"]
        assert table[s["name"]]["counts"] == s["counts"], s["name"]
    assert (
        sum(obj["totals"]["states"].values()) == obj["totals"]["jobs"] == 17
    )  # 21 submissions, 4 superseded
    text = _text(st)
    assert "[gpu_oom]" in text and "[nccl]" in text and "48377_3_0_log.err" in text
    assert "step 1200/5610" in text and "ckpt step-001000" in text


def test_json_shape(fixture_run):
    obj = to_dict(build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query)))
    assert set(obj) == {
        "schema",
        "version",
        "run",
        "root",
        "generated_at",
        "mode",
        "message",
        "manifest",
        "slurm_calls",
        "totals",
        "steps",
        "eval",
        "data",
        "errors",
    }
    job = next(j for s in obj["steps"] for j in s["jobs"] if j["job_id"] == "48377_3")
    assert job["failure"]["kind"] == "gpu_oom" and job["state"] == "FAILED"
    stage2 = next(s for s in obj["steps"] if s["name"] == "stage2")
    assert stage2["progress"]["curve"][-1][0] == 1200
    assert obj["eval"]["summary"]["matched_to_paper"] == 2
    assert [c["argv"][0] for c in obj["slurm_calls"]] == ["sacct", "squeue"]


def test_degraded_message_in_every_view(fixture_run):
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query_degraded))
    assert "DEGRADED" in _text(st)
    assert to_dict(st)["mode"] == "degraded"
    assert "DEGRADED" in render_html(st)


def test_html_is_self_contained(fixture_run):
    html = render_html(build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query)))
    assert html.count('src="data:image/png;base64,') == 2
    assert 'id="jobs"' in html and 'id="eval"' in html and 'id="training"' in html
    assert "http://" not in html and "https://" not in html.replace("https://pytorch.org", "")
    assert "<script" not in html


def test_500_jobs_render(tmp_path):
    """All 500 jobs are joined and rendered; how long that takes is bench/status_latency.py's to say."""
    run, sacct, squeue = synthetic.make_run(tmp_path, 500)

    def query(ids):
        return (
            CommandResult(tuple(sacct_argv(ids)), ok=True, stdout=sacct),
            CommandResult(tuple(squeue_argv(ids)), ok=True, stdout=squeue),
        )

    st = build_status(collect(run, query=query))
    text = _text(st)
    json.dumps(to_dict(st))
    assert sum(sum(s.counts.values()) for s in st.steps) == 500
    assert st.errors == []  # the synthetic sacct text (with step rows) parses
    assert any(j.max_rss_gb for s in st.steps for j in s.jobs)
    assert "FAILED" in text


def test_status_and_eval_report_print_one_scoreboard(fixture_run):
    """The scoreboard in taiyi-status is the table `taiyi eval report` prints: same columns, same cells."""
    from typer.testing import CliRunner

    from taiyi_core.evaluate.board_view import COLUMNS
    from taiyi_core.evaluate.commands import app as eval_app

    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query))
    status_text = _text(st)
    res = CliRunner().invoke(eval_app, ["report", "--run", str(fixture_run.run.root)], env={"COLUMNS": "240"})
    assert res.exit_code == 0, res.output

    def header(text: str) -> list[str]:
        line = next(ln for ln in text.splitlines() if "┃ set " in ln)
        return [c.strip() for c in line.split("┃") if c.strip()]

    assert header(status_text) == header(res.output) == list(COLUMNS)
    bc5 = [ln for ln in res.output.splitlines() if "│ bc5cdr_chem" in ln]  # the report keys by reference name
    assert bc5 and "78.1" in bc5[0] and "80.2" in bc5[0] and "-2.1" in bc5[0]
    assert any("BC5CDR-Chem" in ln and "78.1" in ln and "-2.1" in ln for ln in status_text.splitlines())
