"""Names that become folders (runs, steps, eval sets) cannot leave the run directory.

Every attempt goes through the real command line; the test snapshots the whole temporary tree
before and after and checks that nothing was written outside the run (or at all, when refused).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taiyi_core import cli
from taiyi_core.rundir import RunDir, safe_name

REPO = Path(__file__).resolve().parents[2]
TRAVERSALS = ["../x", "../../../x", "..", "a/b", ".hidden", "x\\..\\y", "/etc/passwd", ""]


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("name", TRAVERSALS)
def test_names_with_separators_or_dotdot_are_refused(name):
    with pytest.raises(ValueError, match="no '/', no '..'"):
        safe_name("eval set", name)
    run = RunDir(Path("/tmp/some-run"))
    with pytest.raises(ValueError):
        run.eval(name)
    with pytest.raises(ValueError):
        run.logs(name)
    with pytest.raises(ValueError):
        RunDir.named(name)


@pytest.mark.parametrize("name", ["BC5CDR-Chem", "cmeee_v2", "biored_ner", "ncbi_disease@1", "MedQA.USMLE"])
def test_ordinary_names_pass(name):
    assert safe_name("eval set", name) == name
    assert RunDir(Path("/r")).eval(name) == Path("/r/eval") / name


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A runs root inside a sandbox folder with one run that has a frozen preset."""
    runs = tmp_path / "sandbox" / "runs"
    run = RunDir(runs / "r1").ensure()
    shutil.copy(REPO / "jobs" / "demo.yaml", run.preset)
    (run.eval_data).mkdir(parents=True)
    (run.eval_data / "x.jsonl").write_text("")
    monkeypatch.setenv("TAIYI_RUNS", str(runs))
    monkeypatch.chdir(tmp_path / "sandbox")
    return tmp_path, run


@pytest.mark.parametrize(
    "argv",
    [
        ["eval", "run", "--run", "r1", "--datasets", "../../../x"],
        ["eval", "run", "--run", "r1", "--datasets", "ok_set,../x"],
        ["eval", "score", "--run", "r1", "--datasets", "../x"],
        ["eval", "run", "--run", "..", "--datasets", "x"],
        ["data", "prepare", "--run", "..", "--preset", "demo"],
        ["data", "prepare", "--run", ".", "--preset", "demo"],
    ],
    ids=[
        "eval-run-set",
        "eval-run-second-set",
        "eval-score-set",
        "eval-run-dotdot",
        "prepare-dotdot",
        "prepare-dot",
    ],
)
def test_traversal_through_the_cli_is_refused_and_writes_nothing(sandbox, argv):
    tmp_path, _ = sandbox
    before = _tree(tmp_path)
    res = CliRunner().invoke(cli.app, argv, env={**os.environ, "COLUMNS": "300"})
    assert res.exit_code != 0, res.output
    assert "name" in res.output and "no '/', no '..'" in res.output, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception  # no traceback
    assert _tree(tmp_path) == before


def test_eval_set_names_in_a_preset_are_refused_at_submission(tmp_path, runs_root):
    preset = tmp_path / "p.yaml"
    preset.write_text("name: p\nmodel: {name_or_path: m}\neval: {datasets: [ok_set, ../../outside]}\n")
    res = CliRunner().invoke(cli.app, ["submit", "eval", "--run", "r", "--preset", str(preset), "-n"])
    assert res.exit_code == 2 and "key 'eval.datasets'" in res.output and "'../../outside'" in res.output
    assert list(runs_root.iterdir()) == []
