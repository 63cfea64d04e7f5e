"""The data step on REAL release files (../shared/samples) and the fidelity audit (data/audit.py).

The samples are laid out in a temporary raw folder under the release's own file names, then the
data step prepares and curates them through their catalog entries exactly as a run does. Where a
dataset has both a training and an eval split and the sample cuts only one, the same file is laid out
under both names so that both views (training mix, eval set) render from real text; that is stated
per dataset below. The audit must be all green on these and on the demo data, and each rule must go
red on a planted defect.
"""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taiyi_core.data import audit, jobs
from taiyi_core.data import render as rnd
from taiyi_core.data.catalog_view import load_views
from taiyi_core.data.inventory import Inventory
from taiyi_core.data.options import data_options
from taiyi_core.data.prepare import _render_split
from taiyi_core.formats import Quarantined, get_reader
from taiyi_core.rundir import RunDir
from taiyi_core.tasks import get_task

from .conftest import demo_preset

# dataset -> (sample path, release path): release names only (no renames the release does not use)
LAYOUT = {
    "bc5cdr": [
        ("bc5cdr/CDR_sample.PubTator.txt", "CDR_Data/CDR.Corpus.v010516/CDR_TestSet.PubTator.txt"),
        # also as the training file, so the training views render real documents too
        ("bc5cdr/CDR_sample.PubTator.txt", "CDR_Data/CDR.Corpus.v010516/CDR_TrainingSet.PubTator.txt"),
    ],
    "kuake_qic": [
        ("kuake_qic/KUAKE-QIC_dev.first300.json", "KUAKE-QIC_dev.json"),
        ("kuake_qic/KUAKE-QIC_dev.first300.json", "KUAKE-QIC_train.json"),
    ],
    "chip_ctc": [
        ("chip_ctc/CHIP-CTC_dev.first300.json", "CHIP-CTC_dev.json"),
        ("chip_ctc/CHIP-CTC_dev.first300.json", "CHIP-CTC_train.json"),
    ],
    "chip_sts": [("chip_sts/CHIP-STS_dev.first300.json", "CHIP-STS_train.json")],
    "ddi_corpus": [("ddi/MedLine", "Train/MedLine"), ("ddi/DrugBank", "Train/DrugBank")],
    "biored": [("biored/Test.first25.PubTator", "BioRED/Test.PubTator")],
    "cmeee_v2": [("cmeee_v2/CMeEE-V2_dev.first200.json", "CMeEE-V2_dev.json")],
}
DATASETS = [*LAYOUT, "hallmarks_of_cancer"]


def _lay_out(samples: Path, raw: Path) -> None:
    for name, pairs in LAYOUT.items():
        for src, dst in pairs:
            target = raw / name / dst
            target.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if (samples / src).is_dir() else shutil.copy)(samples / src, target)
    hoc = raw / "hallmarks_of_cancer"
    shutil.copytree(samples / "hoc", hoc)
    (hoc / "splits").mkdir()
    pmids = "\n".join(sorted(p.stem for p in (samples / "hoc" / "text").glob("*.txt"))) + "\n"
    for split in ("train", "dev", "test"):  # the release ships no split lists: all 30 in each view
        (hoc / "splits" / f"{split}.txt").write_text(pmids, encoding="utf-8")


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    from tests.conftest import SHARED_SAMPLES

    if not SHARED_SAMPLES.is_dir():
        pytest.skip(f"real samples not found at {SHARED_SAMPLES}")
    root = tmp_path_factory.mktemp("real")
    _lay_out(SHARED_SAMPLES, root / "raw")
    preset = demo_preset(root / "raw", tokens=False, audit={"sizes": False})
    preset = preset.model_copy(update={"data": preset.data.model_copy(update={"datasets": DATASETS})})
    run = RunDir(root / "run")
    for item in jobs.datasets_to_prepare(preset):
        jobs.prepare_dataset(run, preset, item)
    report = jobs.curate(run, preset)  # raises AuditFailed on a red row
    return run, report, SHARED_SAMPLES


def _rows(run: RunDir, dataset: str, split: str) -> list[dict]:
    path = run.instruct / dataset / f"{split}.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def _view(run, dataset, split, name) -> list[dict]:
    use, what = name.split(":")
    return [r for r in _rows(run, dataset, split) if r["use"] == use and (r["eval_set"] or r["task"]) == what]


def test_real_samples_audit_all_green(real_run):
    _, report, _ = real_run
    rows = report["audit"]["rows"]
    assert report["audit"]["ok"], [r for r in rows if r["status"] == "red"]
    seen = {(r["dataset"], r["view"]) for r in rows}
    assert {
        ("kuake_qic", "eval:kuake_qic"),
        ("chip_ctc", "train:tc"),
        ("hallmarks_of_cancer", "eval:hallmarks_of_cancer"),
        ("bc5cdr", "eval:bc5cdr_ner"),
        ("chip_sts", "train:sts"),
        ("ddi_corpus", "train:re"),
    } <= seen


@pytest.mark.parametrize(("dataset", "split", "view", "n"), [
    ("kuake_qic", "dev", "eval:kuake_qic", 11),
    ("kuake_qic", "train", "train:tc", 11),
    ("chip_ctc", "dev", "eval:chip_ctc", 44),
    ("chip_ctc", "train", "train:tc", 44),
    ("hallmarks_of_cancer", "test", "eval:hallmarks_of_cancer", 10),
    ("chip_sts", "train", "train:sts", 2),
])  # fmt: skip
def test_prompts_list_the_whole_label_set_never_the_gold(real_run, dataset, split, view, n):
    run, _, _ = real_run
    rows = _view(run, dataset, split, view)
    assert rows
    task = get_task(rows[0]["task"])
    for r in rows:
        options = r["meta"]["label_set"]
        assert len(options) == n, (r["id"], options)
        gold = task.parse(r["target"], r["lang"]).value
        gold = gold if isinstance(gold, list) else [gold]
        assert set(gold) <= set(options) and set(gold) != set(options), (r["id"], gold)
    # the dataset's inventory is recorded in the run
    inventory = json.loads((run.unified / dataset / "inventory.json").read_text(encoding="utf-8"))
    assert inventory["records"] > 0 and inventory["labels"]


def _pubtator_mentions(path: Path) -> dict[str, Counter]:
    """Independent count: per document, distinct (type, whitespace-normalised mention) pairs."""
    out: dict[str, set] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        if len(cols) >= 5 and cols[1].isdigit():
            out.setdefault(cols[0], set()).add((cols[4], " ".join(cols[3].split())))
    return {doc: Counter(t for t, _ in pairs) for doc, pairs in out.items()}


def test_bc5cdr_ner_eval_gold_counts_every_mention_and_the_cid_record_stays(real_run):
    run, report, samples = real_run
    expected = _pubtator_mentions(samples / "bc5cdr" / "CDR_sample.PubTator.txt")
    ner = get_task("ner")
    for view, types in (("eval:bc5cdr_ner", {"Chemical", "Disease"}), ("eval:bc5cdr_chem", {"Chemical"}),
                        ("eval:bc5cdr_dise", {"Disease"})):  # fmt: skip
        rows = _view(run, "bc5cdr", "test", view)
        assert len(rows) == 50, view  # every document, incl. the one whose CID names an unmentioned id
        got = sum(len(ms) for r in rows for ms in ner.parse(r["target"], "en").value.values())
        assert got == sum(c[t] for c in expected.values() for t in types), view
    # the record whose CID relation names D008278 (no mention carries it) left the RE view only
    q = [json.loads(x) for x in (run.quarantine / "bc5cdr.jsonl").read_text(encoding="utf-8").splitlines()]
    test_q = [x for x in q if x["split"] == "test"]
    assert [(x["record_id"], x["view"]) for x in test_q] == [("2385256", "eval:bc5cdr_re")]
    assert "D008278" in test_q[0]["reason"] and test_q[0]["file"].endswith("CDR_TestSet.PubTator.txt")
    views = report_views(run, "bc5cdr", "test")
    assert views["eval:bc5cdr_re"]["records"] == 50 and views["eval:bc5cdr_re"]["quarantined"] == 1
    assert all(v["records"] == v["rendered"] + v["quarantined"] for v in views.values())


def report_views(run: RunDir, dataset: str, split: str) -> dict:
    return json.loads((run.unified / dataset / "_item.json").read_text(encoding="utf-8"))["splits"][split][
        "views"
    ]


def test_ddi_negatives_are_explicit_answers_capped_by_the_mix(real_run):
    run, report, _ = real_run
    rows = _view(run, "ddi_corpus", "train", "train:re")
    whole = [r for r in rows if not r["meta"]["decomposed"]]
    negatives = [r for r in whole if r["meta"]["negative"]]
    assert negatives and all(r["target"] in ("No relation", "无关系") for r in negatives)
    assert all(len(r["meta"]["relation_types"]) == 4 for r in whole)  # the dataset's 4 DDI types
    stage = [
        json.loads(x)
        for x in (run.data / "firefly" / "stage1.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert stage  # (the cap itself is checked on rows below)
    removed = [json.loads(x) for x in (run.data / "removed.jsonl").read_text(encoding="utf-8").splitlines()]
    capped = [x for x in removed if x["why"] == "negatives_capped" and x["dataset"] == "ddi_corpus"]
    assert capped, "most DDI sentences are negatives: the 0.25 default must cut some"


def test_cap_negatives_keeps_the_stated_share():
    from taiyi_core.data.mix import cap_negatives

    rows = [{"dataset": "d", "task": "re", "use": "train", "id": f"p{i}", "meta": {"negative": False}}
            for i in range(30)]  # fmt: skip
    rows += [{"dataset": "d", "task": "re", "use": "train", "id": f"n{i}", "meta": {"negative": True}}
             for i in range(100)]  # fmt: skip
    opts = data_options(demo_preset())
    kept, dropped = cap_negatives(rows, {}, opts, seed=1)
    neg = sum(r["meta"]["negative"] for r in kept)
    assert neg == 10 and len(dropped) == 90 and neg / len(kept) <= opts.negative_ratio  # 10 / 40 = 0.25


def test_demo_audit_all_green(demo_run):
    _, _, report = demo_run
    rows = report["audit"]["rows"]
    assert report["audit"]["ok"] and rows, [r for r in rows if r["status"] == "red"]
    assert {r["dataset"] for r in rows} >= {"bc5cdr", "cmeee_v2", "kuake_qic", "hallmarks_of_cancer"}
    assert all(r["status"] == "skipped" for r in rows if r["view"] == "sizes")  # demo files are cuts


# ------------------------------------------------------------------ planted defects, one per rule


def _records(samples: Path, dataset: str, split: str, files: list[Path]) -> list:
    v = load_views()[dataset]
    lang = v.language if v.language in ("en", "zh") else "en"
    out = get_reader(v.reader).read(files, v.reader_options, dataset=dataset, split=split, lang=lang)
    return [r for r in out if not isinstance(r, Quarantined)]


def _stats(dataset: str, split: str, records: list, rv: rnd.RenderView) -> dict:
    opts = data_options(demo_preset(tokens=False))
    _, stats = _render_split(records, load_views()[dataset], split, [rv], opts, 1, [], Counter(), Counter())
    return stats[rv.name]


@pytest.fixture(scope="module")
def cdr(shared_samples_module):
    return _records(
        shared_samples_module,
        "bc5cdr",
        "test",
        [shared_samples_module / "bc5cdr" / "CDR_sample.PubTator.txt"],
    )


@pytest.fixture(scope="module")
def shared_samples_module():
    from tests.conftest import SHARED_SAMPLES

    if not SHARED_SAMPLES.is_dir():
        pytest.skip(f"real samples not found at {SHARED_SAMPLES}")
    return SHARED_SAMPLES


def _eval_view(dataset: str, name: str, inventory: Inventory | None = None, **catalog) -> rnd.RenderView:
    v = load_views()[dataset]
    es = next(e for e in v.eval_sets if e.name == name)
    es = type(es)(**{**es.__dict__, "render": {**es.render, **catalog}})
    return rnd.eval_view(v, es, inventory)


def test_rule_empty_gold_goes_red_on_a_one_of_four_type_map(cdr):
    # NCBI-disease's defect: a many-to-one map inverted to ONE raw type; here Disease -> a type no record has
    rv = _eval_view(
        "bc5cdr", "bc5cdr_dise", types=["CompositeMention"], type_names={"CompositeMention": "Disease"}
    )
    st = _stats("bc5cdr", "test", cdr, rv)
    assert any(p.startswith("empty_gold") for p in audit.check_view(st)), st
    fixed = _stats("bc5cdr", "test", cdr, _eval_view("bc5cdr", "bc5cdr_dise"))
    assert audit.check_view(fixed) == []


def test_rule_options_from_record_goes_red_when_options_are_the_gold(shared_samples_module):
    recs = _records(
        shared_samples_module,
        "kuake_qic",
        "dev",
        [shared_samples_module / "kuake_qic" / "KUAKE-QIC_dev.first300.json"],
    )
    planted = [r.model_copy(update={"label_set": list(r.labels)}) for r in recs]  # the old fallback
    v = load_views()["kuake_qic"]
    es = next(e for e in v.eval_sets if e.name == "kuake_qic")
    rv = rnd.RenderView("eval:kuake_qic", "tc", "eval", {}, eval_set=es)  # no catalog labels
    problems = audit.check_view(_stats("kuake_qic", "dev", planted, rv))
    assert any(p.startswith("options_from_record") for p in problems), problems
    assert audit.check_view(_stats("kuake_qic", "dev", recs, rnd.eval_view(v, es))) == []


def test_rule_unmapped_goes_red_on_a_map_missing_a_raw_type(cdr):
    inventory = Inventory()
    for r in cdr:
        inventory.add(r)
    # CHEMDNER-like: a map that should cover every raw class but misses one (here Disease)
    rv = _eval_view(
        "bc5cdr", "bc5cdr_ner", inventory, types=["Chemical"], type_names={"Chemical": "Chemical"}
    )
    assert rv.unmapped == ("Disease",)
    assert any(p.startswith("unmapped") for p in audit.check_view(_stats("bc5cdr", "test", cdr, rv)))


def test_rule_unresolved_goes_red_when_relation_ids_are_not_normalised(cdr):
    # BioRED-like defect: relation arguments written with a prefix the entity ids do not carry
    planted = [r.model_copy(update={"relations": [x.model_copy(update={"head": f"MESH:{x.head}"})
                                                  for x in r.relations]}) for r in cdr]  # fmt: skip
    rv = _eval_view("bc5cdr", "bc5cdr_re")
    st = _stats("bc5cdr", "test", planted, rv)
    assert any(p.startswith("unresolved") for p in audit.check_view(st)), st
    real = _stats("bc5cdr", "test", cdr, rv)  # one CID of 124 names an unmentioned id: under 2%
    assert real["unresolved"] == 1 and audit.check_view(real) == []


def test_rule_sizes_goes_red_when_counts_differ_from_the_catalog(real_run):
    run, _, _ = real_run
    summaries = [
        json.loads((run.unified / d / "_item.json").read_text(encoding="utf-8")) for d in ("bc5cdr",)
    ]
    checked = audit.build(summaries, {"bc5cdr": {"train": 500, "test": 500}}, sizes=True, tolerance=0.02)
    sizes = next(r for r in checked["rows"] if r["view"] == "sizes")
    assert sizes["status"] == "red" and not checked["ok"] and "read 50 records" in sizes["problems"][0]
    close = audit.build(summaries, {"bc5cdr": {"train": 51, "test": 50}}, sizes=True, tolerance=0.02)
    assert close["ok"]
    # DDI: sizes count documents, the reader yields sentences; either count within tolerance is green
    ddi = [json.loads((run.unified / "ddi_corpus" / "_item.json").read_text(encoding="utf-8"))]
    whole = ddi[0]["splits"]["train"]["whole"]
    assert whole["documents"] == 22 and whole["records"] > 200
    assert audit.build(ddi, {"ddi_corpus": {"train": 22}}, sizes=True, tolerance=0.02)["ok"]
    assert not audit.build(ddi, {"ddi_corpus": {"train": 714}}, sizes=True, tolerance=0.02)["ok"]


def test_red_row_fails_the_report_command(real_run, tmp_path):
    from taiyi_core.cli import app

    run, report, _ = real_run
    bad = json.loads(json.dumps(report))
    bad["audit"]["rows"][0].update(status="red", problems=["unmapped: raw ['X'] map to nothing"])
    bad["audit"]["ok"] = False
    planted = RunDir(tmp_path / "planted")
    planted.data.mkdir(parents=True)
    (planted.data / "report.json").write_text(json.dumps(bad), encoding="utf-8")
    result = CliRunner().invoke(app, ["data", "report", "--run", str(planted.root)])
    assert result.exit_code == 1 and "fidelity audit: 1 red row(s)" in result.output
    ok = CliRunner().invoke(app, ["data", "report", "--run", str(run.root)])
    assert ok.exit_code == 0 and "all rows green" in ok.output


def test_options_never_depend_on_the_record(cdr):
    """The same view gives every record the same type list, whatever the record contains."""
    rv = _eval_view("bc5cdr", "bc5cdr_ner")
    seen = {tuple(rnd.render_view(r, load_views()["bc5cdr"], rv, seed)[0]["meta"]["types"])
            for seed, r in enumerate(random.Random(0).sample(cdr, 10))}  # fmt: skip
    assert seen == {("Chemical", "Disease")}


@pytest.mark.parametrize(
    ("dataset", "eval_set", "raw"),
    [
        ("ncbi_disease", "ncbi_disease", {"SpecificDisease", "DiseaseClass", "Modifier", "CompositeMention"}),
        (
            "chemdner",
            "chemdner",
            {
                "ABBREVIATION",
                "FAMILY",
                "FORMULA",
                "IDENTIFIER",
                "MULTIPLE",
                "SYSTEMATIC",
                "TRIVIAL",
                "NO CLASS",
            },
        ),  # fmt: skip
    ],
)
def test_many_to_one_maps_keep_every_source_type(dataset, eval_set, raw):
    """The catalog's maps send 4 (NCBI-disease) / 8 (CHEMDNER) raw classes to one type: the eval view and
    the training view both ask for all of them (the old inversion kept one: CompositeMention, NO CLASS)."""
    v = load_views()[dataset]
    es = next(e for e in v.eval_sets if e.name == eval_set)
    for opts in (v.render_options("ner", eval_set=es), v.render_options("ner")):
        assert raw <= set(opts["types"]), opts["types"]
    rv = rnd.eval_view(v, es)
    text = " ".join(sorted(raw))
    ents, pos = [], 0
    for i, t in enumerate(sorted(raw)):
        ents.append({"id": f"T{i}", "type": t, "text": t, "spans": [(pos, pos + len(t))]})
        pos += len(t) + 1
    from taiyi_core.schema import KBRecord

    rec = KBRecord(id="d", dataset=dataset, split="test", lang="en", source={"file": "f"}, document_id="d",
                   text=text, entities=ents)  # fmt: skip
    [row] = rnd.render_view(rec, v, rv, seed=0)
    [(shown, mentions)] = get_task("ner").parse(row["target"], "en").value.items()
    assert len(mentions) == len(raw) and row["meta"]["types"] == [shown]


def test_rule_quarantined_goes_red_when_a_view_renders_nothing(shared_samples_module):
    """CHIP-STS before: no label set reached the renderer, every record quarantined, counts reconciled."""
    recs = _records(shared_samples_module, "chip_sts", "train",
                    [shared_samples_module / "chip_sts" / "CHIP-STS_dev.first300.json"])  # fmt: skip
    v = load_views()["chip_sts"]
    planted = rnd.RenderView("train:sts", "sts", "train", {}, mix=v.mix[0])  # neither catalog nor inventory
    st = _stats("chip_sts", "train", recs, planted)
    assert st["quarantined"] == len(recs) == 300
    assert any(p.startswith("quarantined: 300 of 300") for p in audit.check_view(st)), audit.check_view(st)
    inventory = Inventory()
    for r in recs:
        inventory.add(r)
    fixed = _stats("chip_sts", "train", recs, rnd.train_view(v, v.mix[0], inventory))
    assert fixed["quarantined"] == 0 and audit.check_view(fixed) == []
