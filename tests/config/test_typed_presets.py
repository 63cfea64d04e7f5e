"""One typed configuration: every error class is one line naming file, key and expectation, with a
non-zero exit at submission; overrides and ``base:`` round-trip into the frozen preset; paths are
taken from the working directory (or the preset's folder), never the install location; user
catalog folders join the shipped catalog with the same checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from taiyi_core import cli, lifecycle
from taiyi_core.catalog import CatalogError, load_catalog
from taiyi_core.config import ConfigError, load_preset
from taiyi_core.rundir import RunDir

REPO = Path(__file__).resolve().parents[2]
DEMO_RAW = REPO / "tests" / "fixtures" / "demo_raw"
GOOD = {"name": "t", "model": {"name_or_path": "m"}, "data": {"raw_dir": str(DEMO_RAW)}}


def _preset(tmp_path: Path, patch: dict | None = None, text: str | None = None, name: str = "p.yaml") -> Path:
    path = tmp_path / name
    data = lifecycle_merge(GOOD, patch or {})
    path.write_text(text if text is not None else yaml.safe_dump(data, allow_unicode=True))
    return path


def lifecycle_merge(a: dict, b: dict) -> dict:
    from taiyi_core.preset_file import merge

    return merge(a, b)


def submit(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(cli.app, ["submit", *args], env={**os.environ, "COLUMNS": "400"})
    return res.exit_code, res.output


# (case, preset patch or raw text, step group, extra args, what the one line must say)
ERRORS = [
    (
        "train-unknown-key",
        {"train": {"learning_rate": 1e-4}},
        "stage1",
        (),
        "unknown key 'train.learning_rate'",
    ),
    ("train-wrong-type", {"train": {"lr": "fast"}}, "stage1", (), "key 'train.lr'"),
    ("train-bad-choice", {"train": {"optimizer": "sgd"}}, "stage1", (), "key 'train.optimizer'"),
    ("train-bad-stage", {"train": {"stages": {3: {"epochs": 1}}}}, "stage1", (), "train.stages"),
    (
        "eval-unknown-key",
        {"eval": {"max_new_token": {"ner": 3}}},
        "eval",
        (),
        "unknown key 'eval.max_new_token'",
    ),
    ("eval-bad-choice", {"eval": {"decoding": {"mode": "beam"}}}, "eval", (), "eval.decoding.mode"),
    ("options-negative-shards", {"data": {"options": {"shards": {"bc5cdr": -1}}}}, "data", (), "shards"),
    (
        "options-unknown-key",
        {"data": {"options": {"dedupe": {}}}},
        "data",
        (),
        "unknown key 'data.options.dedupe'",
    ),
    ("resources-unknown-key", {"resources": {"stage1": {"gpu_per_node": 8}}}, "stage1", (), "gpus_per_node"),
    ("resources-unknown-step", {"resources": {"stagee1": {"mem_gb": 8}}}, "stage1", (), "resources.stagee1"),
    ("raw-dir-missing", {"data": {"raw_dir": "/nonexistent/raw"}}, "data", (), "key 'data.raw_dir'"),
    ("model-missing", {"model": None}, "stage1", (), "key 'model'"),
    ("model-not-found", {"model": {"name_or_path": "./no-model"}}, "stage1", (), "key 'model.name_or_path'"),
    ("catalog-not-a-folder", {"data": {"catalog": ["/nonexistent/catalog"]}}, "data", (), "data.catalog"),
    ("base-unknown", {"base": "taiyi9"}, "data", (), "unknown preset 'taiyi9'"),
    ("override-syntax", {}, "stage1", ("train.lr",), "expected key.path=value"),
    ("override-unknown-key", {}, "stage1", ("train.lrr=1",), "unknown key 'train.lrr'"),
    ("override-wrong-type", {}, "stage1", ("train.lr=abc",), "key 'train.lr'"),
    (
        "override-into-a-value",
        {"train": {"lr": 0.1}},
        "stage1",
        ("train.lr.x=1",),
        "holds a value, not a mapping",
    ),
    # rich markup and emoji codes in user text are printed as they are
    ("markup-in-value", {"train": {"optimizer": "[red]x[/red]:train:"}}, "stage1", (), "[red]x[/red]:train:"),
]


@pytest.mark.parametrize("case,patch,group,extra,expected", ERRORS, ids=[e[0] for e in ERRORS])
def test_every_error_class_is_one_line_at_submission(
    tmp_path, runs_root, case, patch, group, extra, expected
):
    path = _preset(tmp_path, patch)
    if case == "model-missing":
        data = yaml.safe_load(path.read_text())
        del data["model"]
        path.write_text(yaml.safe_dump(data))
    code, out = submit(group, "--run", "r", "--preset", str(path), "--dry-run", *extra)
    lines = [ln for ln in out.splitlines() if ln.startswith("error:")]
    assert code != 0 and lines, out
    assert expected in lines[0], lines[0]
    assert "🚋" not in out and str(path) in lines[0], lines[0]
    assert "Traceback" not in out
    assert list(runs_root.iterdir()) == []  # nothing written
    code2, out2 = submit(group, "--run", "r", "--preset", str(path), *extra)  # a real submission: the same
    assert code2 != 0 and expected in out2 and list(runs_root.iterdir()) == []


def test_invalid_yaml_and_base_cycle(tmp_path, runs_root):
    bad = _preset(tmp_path, text="name: x\nmodel: {name_or_path: m\n")
    code, out = submit("stage1", "--run", "r", "--preset", str(bad), "-n")
    assert code == 2 and f"error: {bad}: line" in out and "not valid YAML" in out
    a = _preset(tmp_path, {"base": "b.yaml"}, name="a.yaml")
    _preset(tmp_path, {"base": "a.yaml"}, name="b.yaml")
    code, out = submit("stage1", "--run", "r", "--preset", str(a), "-n")
    assert code == 2 and "presets extend each other in a circle (a.yaml -> b.yaml -> a.yaml)" in out


def test_overrides_and_base_round_trip_into_the_frozen_preset(tmp_path, monkeypatch):
    monkeypatch.setenv("TAIYI_RUNS", str(tmp_path / "runs"))
    child = _preset(
        tmp_path,
        {"base": str(REPO / "jobs" / "demo.yaml"), "name": "child", "train": {"lora": {"r": 4}}},
        name="child.yaml",
    )
    data = yaml.safe_load(child.read_text())
    data.pop("model"), data.pop("data")  # inherit them
    child.write_text(yaml.safe_dump(data))
    run = RunDir.named("rt")
    overrides = ["train.lr=1e-4", "train.stages.2.epochs=4", "eval.limit=7"]
    frozen = lifecycle.step_preset(run, child, overrides)
    again = load_preset(run.preset)
    assert again == frozen == load_preset(child, overrides)
    demo = load_preset("demo")
    assert again.train.lr == 1e-4 and again.train.stages[2].epochs == 4 and again.eval.limit == 7
    assert again.train.lora.r == 4 and again.train.lora.alpha == demo.train.lora.alpha  # merged key by key
    assert again.model == demo.model and again.data.raw_dir == demo.data.raw_dir  # inherited
    text = run.preset.read_text()
    assert "# overrides: train.lr=1e-4 train.stages.2.epochs=4 eval.limit=7" in text and "base:" not in text
    assert lifecycle.step_preset(run, None) == frozen  # a later step reuses it
    assert lifecycle.step_preset(run, child, overrides) == frozen  # the same recipe again is fine
    with pytest.raises(ConfigError, match=r"different preset .*train.lr: 0.0001 \(frozen\) vs 0.01"):
        lifecycle.step_preset(run, child, ["train.stages.2.epochs=4", "eval.limit=7"])


def test_onestage_extends_taiyi1():
    from taiyi_core.lifecycle import first_difference

    assert yaml.safe_load((REPO / "jobs" / "taiyi1-onestage.yaml").read_text())["base"] == "taiyi1"
    one, two = load_preset("taiyi1-onestage"), load_preset("taiyi1")
    assert one.train.stages[2].init_from == "none" and two.train.stages[2].init_from == "stage1"
    a, b = one.model_dump(mode="json"), two.model_dump(mode="json")
    for key in ("name", "description"):
        a.pop(key), b.pop(key)
    a["train"]["stages"]["2"]["init_from"] = "stage1"
    assert first_difference(a, b) is None  # everything else is taiyi1's


def test_paths_from_the_working_directory_or_the_preset_folder(tmp_path, monkeypatch):
    work, elsewhere = tmp_path / "work", tmp_path / "presets"
    (work / "raw").mkdir(parents=True)
    (elsewhere / "raw2").mkdir(parents=True)
    (work / "model").mkdir()
    path = elsewhere / "p.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "p",
                "model": {"name_or_path": "model", "tokenizer": "{preset_dir}/tok"},
                "data": {"raw_dir": "raw", "catalog": ["{preset_dir}/raw2"]},
                "eval": {"adapter": "stage2"},
            }
        )
    )
    monkeypatch.chdir(work)
    monkeypatch.delenv("TAIYI_CATALOG_PATH", raising=False)
    p = load_preset(path)
    assert p.data.raw_dir == str(work / "raw")  # the working directory, not the preset's or the install's
    assert p.model.name_or_path == str(work / "model")  # an existing local folder
    assert p.model.tokenizer == str(elsewhere / "tok") and p.data.catalog == [str(elsewhere / "raw2")]
    assert p.eval.adapter == "stage2"  # a keyword, not a path
    assert load_preset(path, ["model.name_or_path=Qwen/Qwen2.5-7B"]).model.name_or_path == "Qwen/Qwen2.5-7B"
    assert os.environ["TAIYI_CATALOG_PATH"] == str(elsewhere / "raw2")  # data.catalog joins the search path


def _user_entry(name: str) -> dict:
    entries = yaml.safe_load((REPO / "taiyi_core" / "catalog" / "datasets_en.yaml").read_text())["datasets"]
    entry = dict(next(e for e in entries if e["name"] == "paramed"))
    entry.pop("row", None)
    return {**entry, "name": name, "title": name}


def test_user_catalog_folders(tmp_path, monkeypatch):
    folder = tmp_path / "mycatalog"
    folder.mkdir()
    (folder / "mine.yaml").write_text(yaml.safe_dump({"datasets": [_user_entry("my_paramed")]}))
    monkeypatch.setenv("TAIYI_CATALOG_PATH", str(folder))
    cat = load_catalog()
    assert "my_paramed" in cat and "paramed" in cat
    (folder / "dup.yaml").write_text(yaml.safe_dump({"datasets": [_user_entry("paramed")]}))
    with pytest.raises(CatalogError, match=r"dup.yaml: dataset 'paramed': key 'name': already defined in"):
        load_catalog()
    (folder / "dup.yaml").write_text(
        yaml.safe_dump({"datasets": [{**_user_entry("bad_one"), "reader": "nope"}]})
    )
    with pytest.raises(CatalogError, match=r"dup.yaml"):  # the same schema and checks as the shipped files
        load_catalog()
    monkeypatch.setenv("TAIYI_CATALOG_PATH", str(tmp_path / "absent"))
    with pytest.raises(CatalogError, match="TAIYI_CATALOG_PATH: .*absent is not a folder"):
        load_catalog()


def test_set_overrides_on_in_process_commands(tmp_path, monkeypatch):
    """train, merge, eval run and doctor take the same overrides as --set key=value."""
    import json

    monkeypatch.setenv("TAIYI_RUNS", str(tmp_path / "runs"))
    run = RunDir.named("s")
    lifecycle.step_preset(run, "demo")
    env = {**os.environ, "COLUMNS": "300"}
    for argv in (
        ["train", "--run", "s", "--stage", "1", "--set", "train.lr=1e-4"],
        ["merge", "--run", "s", "--set", "train.lr=1e-4"],
        ["eval", "run", "--run", "s", "--set", "train.lr=1e-4"],
    ):
        res = CliRunner().invoke(cli.app, argv, env=env)
        assert res.exit_code == 2 and "different preset" in res.output and "train.lr" in res.output, (
            res.output
        )
    res = CliRunner().invoke(
        cli.app, ["doctor", "--preset", "demo", "--set", "train.lr=fast", "--json"], env=env
    )
    checks = json.loads(res.stdout[res.stdout.index("[") :])
    preset = next(c for c in checks if c["name"] == "preset")
    assert res.exit_code == 1 and preset["status"] == "fail" and "key 'train.lr'" in preset["detail"]
