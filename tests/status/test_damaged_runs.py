"""A damaged run is still shown: each unreadable file is a marked line and an ``errors`` entry naming it.

Every case damages one file of the paper fixture run on disk, then builds the view the CLI builds
(collect -> join -> table, JSON, HTML) and checks that nothing raised, that the JSON names the file,
and that the parts of the run that were not damaged are still there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from taiyi_core.status.collect import collect, query_slurm
from taiyi_core.status.join import build_status
from taiyi_core.status.model import CommandResult
from taiyi_core.status.render_html import render_html
from taiyi_core.status.render_json import to_dict
from taiyi_core.status.render_table import render

INVALID_UTF8 = b'{"f1": 0.5, "note": "\xff\xfe"}\n'


def _write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 37])  # cut inside the last row, as a killed writer leaves it


def _eval_set_without_metrics(root: Path) -> None:
    rows = "".join(json.dumps({"id": f"d{i}", "text": "x"}) + "\n" for i in range(4))
    _write(root / "data" / "eval" / "done-set.jsonl", rows)
    _write(root / "eval" / "done-set" / "predictions.jsonl", rows)


# (case, damage(run root), the file the error must name, a part of the view that must survive)
CASES: list[tuple[str, Callable[[Path], None], str, str]] = [
    (
        "manifest-not-json",
        lambda r: _write(r / "manifest.json", '{"version": 1, "subm'),
        "manifest.json",
        "train",
    ),
    ("manifest-not-utf8", lambda r: _write(r / "manifest.json", b"\xff\xfe{}"), "manifest.json", "train"),
    (
        "manifest-wrong-schema",
        lambda r: _write(r / "manifest.json", '{"version": 1}'),
        "manifest.json",
        "train",
    ),
    ("manifest-empty", lambda r: _write(r / "manifest.json", ""), "manifest.json", "eval"),
    ("manifest-list", lambda r: _write(r / "manifest.json", "[1, 2]"), "manifest.json", "eval"),
    ("train-log-truncated", lambda r: _truncate(r / "train/stage2/log.jsonl"), "stage2/log.jsonl", "jobs"),
    (
        "train-log-not-utf8",
        lambda r: _write(r / "train/stage1/log.jsonl", b'{"step": 1, "loss": 2.0}\n\xff\xfe\n'),
        "stage1/log.jsonl",
        "jobs",
    ),
    (
        "train-log-list-row",
        lambda r: _write(r / "train/stage1/log.jsonl", "[1, 2]\n"),
        "stage1/log.jsonl",
        "jobs",
    ),
    (
        "stage-json-not-json",
        lambda r: _write(r / "train/stage1/stage.json", "{global"),
        "stage1/stage.json",
        "jobs",
    ),
    ("stage-json-list", lambda r: _write(r / "train/stage1/stage.json", "[]"), "stage1/stage.json", "jobs"),
    (
        "stage-json-not-utf8",
        lambda r: _write(r / "train/stage1/stage.json", b"\xc3\x28"),
        "stage.json",
        "jobs",
    ),
    (
        "metrics-not-json",
        lambda r: _write(r / "eval/pubmedqa/metrics.json", "{"),
        "pubmedqa/metrics.json",
        "jobs",
    ),
    (
        "metrics-not-utf8",
        lambda r: _write(r / "eval/pubmedqa/metrics.json", INVALID_UTF8),
        "pubmedqa/metrics.json",
        "jobs",
    ),
    (
        "metrics-list",
        lambda r: _write(r / "eval/pubmedqa/metrics.json", "[0.5]"),
        "pubmedqa/metrics.json",
        "jobs",
    ),
    ("metrics-deleted", _eval_set_without_metrics, "done-set/metrics.json", "jobs"),
    ("scoreboard-not-json", lambda r: _write(r / "eval/scoreboard.json", "{"), "scoreboard.json", "eval"),
    ("scoreboard-number", lambda r: _write(r / "eval/scoreboard.json", "7"), "scoreboard.json", "eval"),
    (
        "scoreboard-rows-ints",
        lambda r: _write(r / "eval/scoreboard.json", '{"rows": [1]}'),
        "scoreboard.json",
        "eval",
    ),
    (
        "scoreboard-row-no-dataset",
        lambda r: _write(r / "eval/scoreboard.json", '{"rows": [{"f1": 0.5}]}'),
        "scoreboard.json",
        "eval",
    ),
    (
        "scoreboard-not-utf8",
        lambda r: _write(r / "eval/scoreboard.json", INVALID_UTF8),
        "scoreboard.json",
        "eval",
    ),
    ("report-not-json", lambda r: _write(r / "data/report.json", "{"), "data/report.json", "eval"),
    (
        "report-datasets-int",
        lambda r: _write(r / "data/report.json", '{"datasets": 3}'),
        "data/report.json",
        "eval",
    ),
    (
        "report-splits-int",
        lambda r: _write(r / "data/report.json", '{"datasets": {"a": 1}}'),
        "report.json",
        "eval",
    ),
    ("report-list", lambda r: _write(r / "data/report.json", "[]"), "data/report.json", "eval"),
    (
        "job-log-is-a-folder",
        lambda r: (r / "logs/data/48151_2_0_log.err").unlink() or (r / "logs/data/48151_2_0_log.err").mkdir(),
        "logs/data",
        "eval",
    ),
]


def _views(st) -> dict:
    console = Console(record=True, width=200, color_system=None)
    console.print(render(st))
    obj = json.loads(json.dumps(to_dict(st)))
    assert "<html" in render_html(st)
    obj["_text"] = console.export_text()
    return obj


@pytest.mark.parametrize("case,damage,names,survives", CASES, ids=[c[0] for c in CASES])
def test_damaged_file_is_named_and_the_rest_is_shown(fixture_run, case, damage, names, survives):
    damage(fixture_run.run.root)
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query))
    obj = _views(st)
    assert obj["errors"], f"{case}: no errors entry"
    hits = [e for e in obj["errors"] if names in e["file"]]
    assert hits, f"{case}: errors name {[e['file'] for e in obj['errors']]}, not {names}"
    assert all(e["problem"] for e in hits)
    assert "unreadable file" in obj["_text"] and names.split("/")[-1] in obj["_text"]
    if survives == "train":
        assert {s["name"] for s in obj["steps"]} >= {"stage1", "stage2"}  # logs without a manifest
    elif survives == "jobs":
        assert obj["totals"]["jobs"] == 17
    elif survives == "eval":
        assert obj["eval"]["rows"], "the evaluation section was lost"


def test_missing_sacct_is_an_error_entry_and_the_run_dir_answers(fixture_run, monkeypatch, tmp_path):
    empty = tmp_path / "no-slurm-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=query_slurm))
    obj = _views(st)
    assert obj["mode"] == "no_slurm"
    assert [e["file"] for e in obj["errors"]] == ["sacct (SLURM command)", "squeue (SLURM command)"]
    assert "command not found" in obj["errors"][0]["problem"]
    failed = {j["job_id"] for s in obj["steps"] for j in s["jobs"] if j["failure"]}
    assert failed == set()  # no SLURM states: nothing is claimed failed without evidence
    assert obj["eval"]["rows"] and obj["steps"]


def test_garbage_squeue_text_is_named(fixture_run):
    def query(ids):
        sacct, _ = fixture_run.query(ids)
        return sacct, CommandResult(("squeue",), ok=True, stdout="what|is|this\n")

    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=query))
    assert [e.file for e in st.errors] == ["squeue output"] and "expected 9" in st.errors[0].problem
    assert {j.state for s in st.steps for j in s.jobs if j.job_id == "48200"} == {"COMPLETED"}  # sacct still


def test_undamaged_fixture_has_no_errors(fixture_run):
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query))
    assert st.errors == []
    assert "unreadable" not in _views(st)["_text"]
