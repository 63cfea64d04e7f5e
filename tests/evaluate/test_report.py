"""Scoreboard on a fake run with metrics for some sets: columns, averages, BioRED, comparison."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taiyi_core.catalog import load_catalog
from taiyi_core.evaluate.commands import app
from taiyi_core.evaluate.reference import find_main, load_reference, main_rows, set_name
from taiyi_core.evaluate.report import build_scoreboard, to_markdown
from taiyi_core.rundir import RunDir


def _metrics(run: RunDir, name: str, **m) -> None:
    folder = run.eval(name)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps({"dataset": name, "n": 100, "parse_failures": 2, **m}))


@pytest.fixture
def fake_run(tmp_path: Path) -> RunDir:
    run = RunDir(tmp_path / "two")
    _metrics(run, "bc5cdr_chem", task="ner", precision=0.8, recall=0.6, f1=0.7)
    _metrics(run, "pubmedqa", task="yesno", accuracy=0.6)
    _metrics(run, "hoc", task="tc", f1=0.8, limit=50)
    _metrics(run, "ddi", task="re", f1=0.25)  # not one of the paper's sets
    _metrics(
        run,
        "biored_ner",
        task="ner",
        precision=0.5,
        recall=0.4,
        f1=0.444,
        per_type={
            "ChemicalEntity": {"precision": 0.7, "recall": 0.5, "f1": 0.583},
            "CellLine": {"precision": 0.1, "recall": 0.2, "f1": 0.133},
        },
    )
    (run.eval("kuake_qic")).mkdir(parents=True)
    (run.eval("kuake_qic") / "metrics.json").write_text("{not json")
    return run


def test_reference_numbers_reproduce_the_papers_averages():
    rows = main_rows()
    assert len(rows) == 13
    mean = lambda xs: round(sum(xs) / len(xs), 1)  # noqa: E731
    # Printed averages (taiyi_results.tsv AVERAGE row): Taiyi 65.1, ChatGPT 49.3, SOTA 73.5.
    assert (mean([r.taiyi for r in rows]), mean([r.chatgpt for r in rows]), mean([r.sota for r in rows])) == (
        65.1,
        49.3,
        73.5,
    )


def test_catalog_eval_sets_resolve_to_the_reference_rows():
    """Every catalog eval set is a reference row under one of its names; the 13 main ones agree on the
    paper name, so the scoreboard and taiyi-status find the paper's numbers for what the data step wrote."""
    cat = load_catalog()
    ours = {r.dataset for r in load_reference()}
    assert {e.name: set_name(e.name) for e in cat.eval_sets() if set_name(e.name) not in ours} == {}
    main = {e.name: find_main(e.name) for e in cat.eval_sets("main")}
    assert {name: ref.dataset for name, ref in main.items()} == {
        "bc5cdr_chem": "bc5cdr_chem",
        "bc5cdr_dise": "bc5cdr_dise",
        "chemdner": "chemdner",
        "ncbi_disease": "ncbi_disease",
        "cmeee_v2": "cmeee_v2",
        "bc5cdr_re": "bc5cdr_re",
        "cmeie_v2": "cmeie_v2",
        "bc7_litcovid": "bc7_litcovid",
        "hallmarks_of_cancer": "hallmarks_of_cancer",
        "kuake_qic": "kuake_qic",
        "pubmed_qa": "pubmed_qa",
        "med_qa_usmle": "med_qa_usmle",
        "med_qa_mcmle": "med_qa_mcmle",
    }
    assert all(ref.paper_name == cat.eval_set(name).paper_name for name, ref in main.items())
    assert find_main("MedQA-USMLE").dataset == "med_qa_usmle" and find_main("biored_ner") is None
    assert set_name("meddialog") == "meddialog_tc" and set_name("ddi") == "ddi"


def test_scoreboard_finds_sets_filed_under_catalog_names(tmp_path):
    run = RunDir(tmp_path / "cat")
    _metrics(run, "pubmed_qa", task="yesno", accuracy=0.6)
    _metrics(run, "hallmarks_of_cancer", task="tc", f1=0.8)
    _metrics(run, "pubmedqa", task="yesno", accuracy=0.5)  # the exact name wins over an alias
    board = build_scoreboard(run)
    by = {r["dataset"]: r for r in board["rows"]}
    assert (by["pubmed_qa"]["ours"], by["hallmarks_of_cancer"]["ours"]) == (60.0, 80.0)
    assert board["other_sets"] == {}


def test_scoreboard(fake_run):
    runner = CliRunner()
    res = runner.invoke(app, ["report", "--run", str(fake_run.root), "--json"])
    assert res.exit_code == 0, res.output
    board = json.loads(res.stdout)
    assert board == json.loads((fake_run.root / "eval" / "scoreboard.json").read_text())
    by = {r["dataset"]: r for r in board["rows"]}
    assert list(by) == [
        "bc5cdr_chem",
        "bc5cdr_dise",
        "chemdner",
        "ncbi_disease",
        "cmeee_v2",
        "bc5cdr_re",
        "cmeie_v2",
        "bc7_litcovid",
        "hallmarks_of_cancer",
        "kuake_qic",
        "pubmed_qa",
        "med_qa_usmle",
        "med_qa_mcmle",
    ]
    chem = by["bc5cdr_chem"]
    assert (chem["ours"], chem["taiyi"], chem["delta_taiyi"], chem["chatgpt_gpt35"], chem["sota"]) == (
        70.0,
        80.2,
        -10.2,
        60.3,
        93.3,
    )
    assert chem["sota_model"] == "PubMedBERT" and chem["f1"] == 0.7 and chem["status"] == "ok"
    assert by["pubmed_qa"]["ours"] == 60.0 and by["pubmed_qa"]["metric"] == "accuracy"
    assert by["hallmarks_of_cancer"]["status"] == "subset"
    assert by["kuake_qic"]["ours"] is None and by["kuake_qic"]["status"] == "missing"
    assert "kuake_qic" in board["unreadable"]
    avg = board["average"]
    assert (avg["sets_scored"], avg["sets_total"]) == (3, 13)
    assert avg["ours"] == 70.0  # (70 + 80 + 60) / 3, missing sets left out
    assert avg["taiyi_same_sets"] == 71.5  # (80.2 + 80.0 + 54.4) / 3
    assert avg["delta_taiyi_same_sets"] == -1.5
    assert (avg["chatgpt_same_sets"], avg["sota_same_sets"]) == (62.7, 77.1)
    assert (avg["taiyi_all"], avg["chatgpt_all"], avg["sota_all"]) == (65.1, 49.3, 73.5)
    assert len(avg["missing"]) == 10
    bio = {r["entity_type"]: r for r in board["biored"]}
    assert (bio["Chemical"]["f1"], bio["Chemical"]["taiyi_f1"], bio["Chemical"]["delta_f1"]) == (
        58.3,
        63.3,
        -5.0,
    )
    assert bio["CellLine"]["precision"] == 10.0 and bio["Gene"]["f1"] is None
    assert (bio["All"]["precision"], bio["All"]["recall"], bio["All"]["taiyi_f1"]) == (50.0, 40.0, 60.8)
    assert board["other_sets"] == {"ddi": {"task": "re", "metric": "f1", "score": 25.0, "n": 100}}
    md = (fake_run.root / "eval" / "scoreboard.md").read_text()
    assert (
        "| set | lang | task | metric | n | ours [def] | Taiyi-1 [def] | Δ Taiyi | ChatGPT-3.5 [def] "
        "| ours [SOTA def] | SOTA [def] | Δ SOTA | status |"
    ) in md
    assert "**average (3/13 sets)**" in md and "| 70.0 | 71.5 | -1.5 |" in md


def test_comparison_with_second_run(fake_run, tmp_path):
    one = RunDir(tmp_path / "one")
    _metrics(one, "bc5cdr_chem", f1=0.5)
    _metrics(one, "pubmedqa", accuracy=0.55)
    _metrics(one, "chemdner", f1=0.4)
    res = CliRunner().invoke(app, ["report", "--run", str(fake_run.root), "--compare", str(one.root)])
    assert res.exit_code == 0, res.output
    assert "two vs one" in res.output
    c = json.loads((fake_run.root / "eval" / "scoreboard.json").read_text())["comparison"]
    rows = {r["dataset"]: r for r in c["rows"]}
    assert (
        rows["bc5cdr_chem"]["this_run"],
        rows["bc5cdr_chem"]["compare_run"],
        rows["bc5cdr_chem"]["delta"],
    ) == (70.0, 50.0, 20.0)
    assert rows["chemdner"]["this_run"] is None and rows["chemdner"]["paper_one_stage"] == 53.0
    assert (rows["pubmed_qa"]["paper_one_stage"], rows["pubmed_qa"]["paper_two_stage"]) == (61.0, 62.0)
    assert (c["sets_in_both"], c["mean_this_run"], c["mean_compare_run"]) == (2, 65.0, 52.5)
    assert (c["paper_mean_one_stage"], c["paper_mean_two_stage"]) == (51.2, 62.9)  # 0.512 -> 0.629


def _defs(**scores: float) -> dict:
    return {name: {"f1": f, "main": "f1"} for name, f in scores.items()}


def test_every_reference_number_beside_ours_in_its_own_definition(tmp_path):
    run = RunDir(tmp_path / "defs")
    m = {"task": "ner", "f1": 0.7}
    _metrics(run, "bc5cdr_chem", **m, definitions=_defs(**{"string-set": 0.7, "mention": 0.6}))
    _metrics(run, "chemdner", **m, definitions=_defs(**{"string-set": 0.7}))  # eval rows without reference
    _metrics(run, "bc5cdr_re", task="re", f1=0.4, definitions=_defs(**{"string-set": 0.4, "concept": 0.5}))
    _metrics(run, "hallmarks_of_cancer", task="tc", f1=0.8, definitions=_defs(**{"string-set": 0.8}))
    acc = {"accuracy": {"accuracy": 0.9, "accuracy_first_label": 0.95, "main": "accuracy"}}
    _metrics(run, "kuake_qic", task="tc", f1=0.85, definitions={**_defs(**{"string-set": 0.85}), **acc})
    by = {r["dataset"]: r for r in build_scoreboard(run)["rows"]}
    chem = by["bc5cdr_chem"]
    # Taiyi's 80.2 is string-set -> our string-set 70; PubMedBERT's 93.3 is mention -> our mention 60
    assert (chem["definition"], chem["ours"], chem["delta_taiyi"]) == ("string-set", 70.0, -10.2)
    assert (chem["sota_definition"], chem["ours_sota_definition"], chem["delta_sota"]) == (
        "mention",
        60.0,
        -33.3,
    )
    assert by["bc5cdr_re"]["sota_definition"] == "concept" and by["bc5cdr_re"]["delta_sota"] == 5.0  # 50 - 45
    # KUAKE-QIC: Taiyi's micro-F1 (string-set) vs CBLUE's accuracy, each against its own
    qic = by["kuake_qic"]
    assert (qic["ours"], qic["ours_sota_definition"], qic["delta_sota"]) == (85.0, 90.0, 4.1)
    # no score under the SOTA's definition: said, and no difference printed
    assert by["chemdner"]["ours_sota_definition"] is None and by["chemdner"]["delta_sota"] is None
    assert by["chemdner"]["sota_note"] == "not scored under mention (applies: string-set)"
    hoc = by["hallmarks_of_cancer"]
    assert hoc["delta_sota"] is None and hoc["sota_note"].startswith("no matching definition: BLURB HoC F1")
    md = to_markdown(build_scoreboard(run))
    assert "| 70.0 [string-set] | 80.2 [string-set] | -10.2 | 60.3 [string-set] | 60.0 [mention] " in md
    assert "| 93.3 (PubMedBERT) [mention] | -33.3 |" in md
    assert "no matching definition: BLURB HoC F1" in md
    assert "Every number here (Taiyi-1's, ChatGPT's, ours) is [string-set]." in md  # the BioRED section
