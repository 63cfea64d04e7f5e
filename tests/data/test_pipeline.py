"""prepare + curate over the bundled demo raw data: outputs, counts, stages, eval sets, re-runs."""

from __future__ import annotations

import json

import pytest
from datasets import load_from_disk

from taiyi_core.atomic import atomic_path
from taiyi_core.config import ConfigError
from taiyi_core.data import jobs, prepare
from taiyi_core.data.items import Item
from taiyi_core.data.options import data_options
from taiyi_core.rundir import RunDir

from .conftest import demo_preset, prepare_all

DIALOGUE_QA = {"mcqa", "yesno", "qa", "cqa", "dialogue"}
PAPER_EVAL_SETS = {
    "bc5cdr_chem",
    "bc5cdr_dise",
    "bc5cdr_re",
    "cmeee_v2",
    "kuake_qic",
    "hallmarks_of_cancer",
    "pubmed_qa",
    "med_qa_usmle",
}


def test_demo_outputs_and_counts_reconcile(demo_run):
    run, _, report = demo_run
    for name in ("bc5cdr", "cmeee_v2", "kuake_qic", "hallmarks_of_cancer", "pubmed_qa", "med_qa", "liveqa"):
        assert name in report["datasets"], f"{name} missing from the report"
    quarantined_total = 0
    for name, splits in report["datasets"].items():
        for split, e in splits.items():
            assert e["read"] == e["written"] + e["quarantined"], (name, split)
            assert (run.unified / name / f"{split}.parquet").is_file()
            assert (run.instruct / name / f"{split}.jsonl").is_file()
            quarantined_total += e["quarantined"] + e["render_quarantined"]
        lines = (run.quarantine / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        expected = sum(e["quarantined"] + e["render_quarantined"] for e in splits.values())
        assert len(lines) == expected, name
    assert quarantined_total >= 5  # the demo plants bad records in most datasets
    assert report["totals"]["read"] == report["totals"]["written"] + report["totals"]["quarantined"]
    assert report["datasets"]["bc5cdr"]["train"]["quarantined"] == 1
    assert report["tokenizer"] == "n/a (tokenizer not available)" or isinstance(
        report["totals"]["stages"]["stage2"]["tokens"], int
    )
    on_disk = json.loads((run.data / "report.json").read_text(encoding="utf-8"))
    assert on_disk["totals"] == report["totals"]


def test_stage_mixes(demo_run):
    run, _, report = demo_run
    s1, s2 = load_from_disk(str(run.sft(1))), load_from_disk(str(run.sft(2)))
    assert s1.column_names == ["id", "dataset", "task", "lang", "messages"]
    assert len(s1) > 0 and len(s2) > len(s1)
    assert not set(s1["task"]) & DIALOGUE_QA, "stage 1 must hold no dialogue/QA tasks"
    assert set(s2["task"]) & DIALOGUE_QA
    assert {(d, i) for d, i in zip(s1["dataset"], s1["id"], strict=True)} <= {
        (d, i) for d, i in zip(s2["dataset"], s2["id"], strict=True)
    }
    msg = s2[0]["messages"]
    assert msg[0]["role"] == "user" and msg[1]["role"] == "assistant"
    assert report["totals"]["stages"]["stage1"]["instances"] == len(s1)


def test_eval_sets_on_paper_splits(demo_run):
    run, _, report = demo_run
    names = {p.stem for p in run.eval_data.glob("*.jsonl")}
    assert names >= PAPER_EVAL_SETS
    rows = [
        json.loads(x) for x in (run.eval_data / "cmeee_v2.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    # + "reference" (gold offsets/ids the scoring definitions need) where the task writes one
    assert set(rows[0]) - {"reference"} == {"id", "dataset", "task", "lang", "prompt", "target", "input_text"}
    assert len(rows) == report["datasets"]["cmeee_v2"]["dev"]["written"]  # CMeEE is evaluated on dev
    chem = [
        json.loads(x) for x in (run.eval_data / "bc5cdr_chem.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert all("disease" not in r["target"].lower() for r in chem)


def test_overlap_audit_reports_planted_leaks(demo_run):
    _, _, report = demo_run
    pairs = {(p["train_dataset"], p["eval_set"]): p["by_kind"] for p in report["overlap"]}
    assert "doc_id" in pairs[("bc5cdr", "bc5cdr_chem")]  # PMID 90000301 is in train and test
    assert "ngram" in pairs[("cmeee_v2", "cmeee_v2")]  # near-copy of a dev sentence (one character changed)
    assert report["datasets"]["bc5cdr"]["train"]["overlap_removed"] >= 1


def test_rerun_skips_unchanged_and_redoes_changed(tmp_path, raw_copy):
    preset = demo_preset(raw_copy)
    preset = preset.model_copy(
        update={"data": preset.data.model_copy(update={"datasets": ["kuake_qic", "med_qa"]})}
    )
    run = RunDir(tmp_path / "run")
    assert not any(r["skipped"] for r in prepare_all(run, preset))
    assert all(r["skipped"] for r in prepare_all(run, preset))
    f = raw_copy / "kuake_qic" / "KUAKE-QIC_dev.json"
    f.write_text(f.read_text(encoding="utf-8").replace("枸杞", "菊花"), encoding="utf-8")
    again = {r["dataset"]: r["skipped"] for r in prepare_all(run, preset)}
    assert again == {"kuake_qic": False, "med_qa": True}


def test_killed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    preset = demo_preset()
    run = RunDir(tmp_path / "run")

    def dying_write(path, rows):
        with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
            for i, row in enumerate(rows):
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                if i == 1:
                    raise KeyboardInterrupt("killed")
        return 0

    monkeypatch.setattr(prepare, "write_jsonl", dying_write)
    with pytest.raises(KeyboardInterrupt):
        jobs.prepare_dataset(run, preset, "cmeee_v2")
    folder = run.instruct / "cmeee_v2"
    assert not (folder / "train.jsonl").exists()
    assert not [p for p in folder.iterdir()] if folder.exists() else True  # no temporary left behind
    assert not prepare.item_file(run, Item("cmeee_v2")).exists()
    monkeypatch.undo()
    assert jobs.prepare_dataset(run, preset, "cmeee_v2")["skipped"] is False  # redone, not skipped


def test_shards_render_the_same_rows(tmp_path):
    preset = demo_preset()
    whole, sharded = RunDir(tmp_path / "a"), RunDir(tmp_path / "b")
    jobs.prepare_dataset(whole, preset, "cmeee_v2")
    for k in range(2):
        jobs.prepare_dataset(sharded, preset, f"cmeee_v2@{k}/2")

    def rows(run):
        out = set()
        for p in (run.instruct / "cmeee_v2").glob("*.jsonl"):
            out |= {
                (r["id"], r["prompt"], r["target"])
                for r in map(json.loads, p.read_text(encoding="utf-8").splitlines())
            }
        return out

    assert rows(whole) == rows(sharded) and rows(whole)


def test_items_and_options_errors():
    assert str(Item.parse("huatuo@1/4")) == "huatuo@1/4"
    with pytest.raises(ValueError, match="0 <= k < n"):
        Item.parse("x@4/4")
    bad = demo_preset(dedupe={"near": True})
    with pytest.raises(ConfigError, match="dedupe"):
        data_options(bad)
    unknown = demo_preset().model_copy(
        update={"data": demo_preset().data.model_copy(update={"datasets": ["bc5cdrr"]})}
    )
    with pytest.raises(ConfigError, match="did you mean 'bc5cdr'"):
        jobs.datasets_to_prepare(unknown)
