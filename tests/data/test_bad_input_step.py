"""Bad input that no single reader sees, through the data step itself (issue 11, item 7): split lists that
are missing, empty or name unknown ids, absent splits, empty files, symlinks out of the raw folder, stale
temporary folders of a killed run, and raw types that map to nothing (the fidelity audit goes red).

Each starts from a copy of the bundled demo raw data and plants one defect; the reader kinds are in
tests/formats/test_bad_input.py.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from taiyi_core import atomic
from taiyi_core.data import jobs
from taiyi_core.rundir import RunDir

from .conftest import DEMO_RAW, demo_preset


def _prepare(tmp: Path, raw: Path, dataset: str) -> tuple[RunDir, dict, list[dict]]:
    preset = demo_preset(raw, tokens=False, audit={"sizes": False})
    preset = preset.model_copy(update={"data": preset.data.model_copy(update={"datasets": [dataset]})})
    run = RunDir(tmp / "run")
    (item,) = jobs.datasets_to_prepare(preset)
    summary = jobs.prepare_dataset(run, preset, item)
    qfile = run.quarantine / f"{dataset}.jsonl"
    lines = [json.loads(x) for x in qfile.read_text(encoding="utf-8").splitlines()]
    return run, summary, lines


def _raw(tmp: Path, dataset: str) -> Path:
    raw = tmp / "raw"
    shutil.copytree(DEMO_RAW / dataset, raw / dataset)
    return raw


def test_split_lists_missing_empty_or_naming_unknown_ids_are_reported(tmp_path):
    raw = _raw(tmp_path, "hallmarks_of_cancer")
    splits = raw / "hallmarks_of_cancer" / "splits"
    train_ids = [x for x in (splits / "train.txt").read_text().split() if x]
    (splits / "dev.txt").unlink()  # missing: that split is not read, the others are
    (splits / "test.txt").write_text("\n")  # empty
    with (splits / "train.txt").open("a") as fh:
        fh.write("99999998\n99999999\n")  # listed, but no such document
    _, summary, lines = _prepare(tmp_path, raw, "hallmarks_of_cancer")

    assert "dev" not in summary["splits"] and "dev.txt" in summary["unread_splits"]["dev"][0]
    split_lines = {
        q["split"]: q for q in lines if q["stage"] == "split" and "name no record" not in q["reason"]
    }
    missing = split_lines["dev"]
    assert missing["reason"].startswith(
        "split 'dev' is defined by the id list 'splits/dev.txt', which matches no"
    )
    assert missing["dataset"] == "hallmarks_of_cancer" and missing["file"].endswith("splits/dev.txt")
    empty = split_lines["test"]
    assert "id list test.txt is empty" in empty["reason"] and empty["file"].endswith("splits/test.txt")
    unknown = next(q for q in lines if q["split"] == "train" and "name no record read" in q["reason"])
    assert "2 id(s)" in unknown["reason"] and "99999998, 99999999" in unknown["reason"]
    assert unknown["file"].endswith("splits/train.txt")
    # the split's row in the report carries them too, and the good documents are all there
    train = summary["splits"]["train"]
    assert train["read"] == len(train_ids) and train["read"] == train["written"] + train["quarantined"]
    assert any("name no record read" in p for p in train["problems"])
    assert any("id(s) of the id list" in k for k in train["reasons"])


def test_an_absent_split_and_an_empty_file_are_reported(tmp_path):
    raw = _raw(tmp_path, "bc5cdr")
    data = raw / "bc5cdr" / "CDR_Data"
    (data / "CDR_DevelopmentSet.PubTator.txt").unlink()
    (data / "CDR_TestSet.PubTator.txt").write_text("\n")
    _, summary, lines = _prepare(tmp_path, raw, "bc5cdr")

    (absent,) = [q for q in lines if q["stage"] == "split"]
    assert (
        absent["split"] == "dev"
        and "no file matches '**/CDR_DevelopmentSet.PubTator.txt'" in absent["reason"]
    )
    (empty,) = [q for q in lines if q["reason"].startswith("empty file")]
    assert empty["split"] == "test" and empty["file"].endswith("CDR_TestSet.PubTator.txt")
    test = summary["splits"]["test"]
    assert (test["read"], test["written"], test["quarantined"]) == (1, 0, 1)  # counted, not silent


def test_symlinks_out_of_the_raw_folder_are_refused_unless_allowed(tmp_path, monkeypatch):
    raw = _raw(tmp_path, "bc5cdr")
    store = tmp_path / "store"
    store.mkdir()
    test_file = raw / "bc5cdr" / "CDR_Data" / "CDR_TestSet.PubTator.txt"
    shutil.move(test_file, store / test_file.name)
    test_file.symlink_to(store / test_file.name)
    monkeypatch.delenv("TAIYI_RAW_ALLOW", raising=False)
    _, summary, lines = _prepare(tmp_path / "a", raw, "bc5cdr")
    (refused,) = [q for q in lines if "symlink" in q["reason"]]
    assert refused["file"] == str(test_file) and str((store / test_file.name).resolve()) in refused["reason"]
    assert summary["splits"]["test"]["written"] == 0 and summary["splits"]["train"]["written"] > 0

    monkeypatch.setenv("TAIYI_RAW_ALLOW", str(store))  # a shared dataset store named by the user
    _, summary, lines = _prepare(tmp_path / "a", raw, "bc5cdr")  # the same run: the item is redone
    assert not summary["skipped"] and summary["splits"]["test"]["written"] > 0
    assert not [q for q in lines if "symlink" in q["reason"]]


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _temp(folder: Path, final: str, suffix: str, owner: str | None, age_s: float = 0) -> Path:
    tmp = folder / f".{final}.{suffix}.tmp"
    (tmp / final).parent.mkdir(parents=True)
    (tmp / final).write_text("half")
    if owner is not None:
        (tmp / atomic.OWNER_FILE).write_text(owner)
    if age_s:
        old = time.time() - age_s
        os.utime(tmp, (old, old))
    return tmp


def test_stale_temporary_folders_are_removed_and_live_ones_kept(tmp_path):
    host = socket.gethostname()
    dead = _temp(tmp_path, "rows.jsonl", "dead0000", f"{host} {_dead_pid()}")
    live = _temp(tmp_path, "rows.jsonl", "live0000", f"{host} {os.getpid()}")
    old_foreign = _temp(tmp_path, "rows.jsonl", "oldf0000", "othernode 1", age_s=atomic.STALE_AFTER_S + 60)
    new_foreign = _temp(tmp_path, "rows.jsonl", "newf0000", "othernode 1")
    no_owner_old = _temp(tmp_path, "rows.jsonl", "noow0000", None, age_s=atomic.STALE_AFTER_S + 60)
    other_name = _temp(tmp_path, "rows.jsonl.sig", "dead0001", f"{host} {_dead_pid()}")  # another file's
    atomic.write_text(tmp_path / "rows.jsonl", "{}\n")
    assert (tmp_path / "rows.jsonl").read_text() == "{}\n"
    assert not dead.exists() and not old_foreign.exists() and not no_owner_old.exists()
    assert live.exists() and new_foreign.exists() and other_name.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".rows.jsonl.")) == [
        ".rows.jsonl.live0000.tmp", ".rows.jsonl.newf0000.tmp", ".rows.jsonl.sig.dead0001.tmp"
    ]  # fmt: skip


def test_a_killed_runs_temporary_folder_is_cleaned_by_the_next_run(tmp_path):
    raw = _raw(tmp_path, "kuake_qic")
    run = RunDir(tmp_path / "run")
    stale = _temp(
        run.instruct / "kuake_qic", "dev.jsonl", "kill0000", f"{socket.gethostname()} {_dead_pid()}"
    )
    _prepare(tmp_path, raw, "kuake_qic")
    assert not stale.exists() and (run.instruct / "kuake_qic" / "dev.jsonl").is_file()


def _cmeee_type_outside_the_map(raw: Path) -> None:
    dev = raw / "cmeee_v2" / "CMeEE-V2_dev.json"
    records = json.loads(dev.read_text(encoding="utf-8"))
    records[0]["entities"][0]["type"] = "xyz"  # not in the eval set's type_map
    dev.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")


def _bc5cdr_type_no_view_lists(raw: Path) -> None:
    train = raw / "bc5cdr" / "CDR_Data" / "CDR_TrainingSet.PubTator.txt"
    lines = train.read_text(encoding="utf-8").splitlines()
    n = next(i for i, ln in enumerate(lines) if ln.split("\t")[4:5] == ["Disease"])
    lines[n] = lines[n].replace("\tDisease", "\txyz", 1)  # no map: every view lists Chemical/Disease only
    train.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(("dataset", "plant", "view"), [
    ("cmeee_v2", _cmeee_type_outside_the_map, "eval:cmeee_v2"),
    ("bc5cdr", _bc5cdr_type_no_view_lists, "train:ner"),
])  # fmt: skip
def test_a_raw_type_that_maps_to_nothing_turns_the_audit_red(tmp_path, dataset, plant, view):
    raw = _raw(tmp_path, dataset)
    plant(raw)
    preset = demo_preset(raw, tokens=False, audit={"sizes": False})
    preset = preset.model_copy(update={"data": preset.data.model_copy(update={"datasets": [dataset]})})
    run = RunDir(tmp_path / "run")
    for item in jobs.datasets_to_prepare(preset):
        jobs.prepare_dataset(run, preset, item)
    with pytest.raises(jobs.AuditFailed) as failed:
        jobs.curate(run, preset)
    red = {r["view"]: r["problems"] for r in failed.value.report["audit"]["rows"] if r["status"] == "red"}
    assert any("unmapped: raw ['xyz']" in p for p in red.get(view, [])), red
    assert all(any(p.startswith("unmapped") for p in problems) for problems in red.values()), red


def test_without_the_planted_type_the_same_data_is_green(tmp_path):
    for dataset in ("cmeee_v2", "bc5cdr"):
        preset = demo_preset(_raw(tmp_path / dataset, dataset), tokens=False, audit={"sizes": False})
        preset = preset.model_copy(update={"data": preset.data.model_copy(update={"datasets": [dataset]})})
        run = RunDir(tmp_path / dataset / "run")
        for item in jobs.datasets_to_prepare(preset):
            jobs.prepare_dataset(run, preset, item)
        assert jobs.curate(run, preset)["audit"]["ok"]


def test_split_problems_are_reported_once_over_the_shards(tmp_path):
    raw = _raw(tmp_path, "hallmarks_of_cancer")
    with (raw / "hallmarks_of_cancer" / "splits" / "train.txt").open("a") as fh:
        fh.write("99999999\n")
    preset = demo_preset(raw, tokens=False, audit={"sizes": False}, shards={"hallmarks_of_cancer": 2})
    preset = preset.model_copy(
        update={"data": preset.data.model_copy(update={"datasets": ["hallmarks_of_cancer"]})}
    )
    run = RunDir(tmp_path / "run")
    items = jobs.datasets_to_prepare(preset)
    summaries = [jobs.prepare_dataset(run, preset, item) for item in items]
    assert len(items) == 2
    lines = [json.loads(x) for f in run.quarantine.glob("hallmarks_of_cancer*.jsonl")
             for x in f.read_text(encoding="utf-8").splitlines()]  # fmt: skip
    assert sum("name no record read" in q["reason"] for q in lines) == 1
    counted = sum(n for s in summaries for k, n in s["splits"]["train"]["reasons"].items() if "id list" in k)
    assert counted == 1
