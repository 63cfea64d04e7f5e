"""The data step writes the gold the scoring definitions need: `taiyi data prepare` on the demo preset,
then every eval set's rows carry a `reference`, and `taiyi eval score --run` puts every applicable
definition in metrics.json (gold predictions: 1.0 under each)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from taiyi_core.cli import app as taiyi
from taiyi_core.rundir import RunDir

runner = CliRunner()
DEMO = Path(__file__).resolve().parents[2] / "jobs" / "demo.yaml"
EXPECTED = {  # eval set -> definitions that must apply (the demo's raw files are BC5CDR, CBLUE, ...)
    "bc5cdr_chem": {"string-set", "mention"},
    "bc5cdr_re": {"string-set", "concept"},
    "cmeee_v2": {"string-set", "mention"},
    "kuake_qic": {"string-set", "accuracy"},
    "pubmed_qa": {"accuracy"},
}


def test_prepared_eval_sets_carry_reference_and_score_under_every_definition(runs_root) -> None:
    res = runner.invoke(taiyi, ["data", "prepare", "--run", "defs", "--preset", str(DEMO)])
    assert res.exit_code == 0, res.output
    run = RunDir(runs_root / "defs")
    for name in EXPECTED:
        rows = [json.loads(ln) for ln in (run.eval_data / f"{name}.jsonl").read_text().splitlines()]
        assert rows, name
        if name != "pubmed_qa":
            assert all(isinstance(r.get("reference"), dict) for r in rows), name
        for r in rows:
            ref = r.get("reference") or {}
            for m in ref.get("mentions", []):  # offsets index input_text and re-slice to the mention
                assert " ".join(r["input_text"][m["start"] : m["end"]].split()) == m["text"], (name, m)
        folder = run.eval(name)
        folder.mkdir(parents=True)
        (folder / "predictions.jsonl").write_text(
            "".join(json.dumps({"id": r["id"], "prediction": r["target"]}) + "\n" for r in rows)
        )
    res = runner.invoke(taiyi, ["eval", "score", "--run", "defs", "--datasets", ",".join(EXPECTED)])
    assert res.exit_code == 0, res.output
    for name, wanted in EXPECTED.items():
        metrics = json.loads((run.eval(name) / "metrics.json").read_text())
        defs = metrics["definitions"]
        assert wanted <= set(defs), (name, sorted(defs))
        assert all(d[d["main"]] == 1.0 for d in defs.values()), (name, defs)
