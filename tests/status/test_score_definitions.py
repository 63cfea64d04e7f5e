"""taiyi-status's score section: each reference number with its definition, ours in the same one."""

from __future__ import annotations

from rich.console import Console

from taiyi_core.evaluate.board_view import scoreboard_table
from taiyi_core.status.evaluation import board_rows, eval_rows


def _defs(**scores: float) -> dict:
    return {name.replace("_", "-"): {"f1": f, "main": "f1"} for name, f in scores.items()}


def test_metrics_rows_score_ours_under_each_reference_definition() -> None:
    chem = {"dataset": "bc5cdr_chem", "task": "ner", "n": 50, "f1": 0.9}
    metrics = [
        {**chem, "definitions": _defs(string_set=0.9, mention=0.8)},
        {"dataset": "hoc", "task": "tc", "n": 9, "f1": 0.7, "definitions": _defs(string_set=0.7)},
        {"dataset": "chemdner", "task": "ner", "n": 9, "f1": 0.6},  # written before definitions existed
    ]
    by = {r.dataset: r for r in eval_rows(metrics)}
    chem = by["bc5cdr_chem"]
    assert (chem.definition, chem.score, chem.taiyi) == ("string-set", 90.0, 80.2)
    assert (chem.sota_definition, chem.score_sota_definition, chem.sota) == ("mention", 80.0, 93.3)
    assert by["hoc"].score_sota_definition is None and by["hoc"].sota_note.startswith(
        "no matching definition"
    )
    old = by["chemdner"]
    assert old.score == 60.0 and old.score_sota_definition is None
    assert old.sota_note == "not scored under mention (metrics.json has no definitions)"
    rows = {r["dataset"]: r for r in board_rows(list(by.values()))}
    assert rows["bc5cdr_chem"]["delta_sota"] == -13.3 and rows["hoc"]["delta_sota"] is None
    console = Console(width=250, record=True)
    console.print(scoreboard_table("t", list(rows.values()), []))
    text = console.export_text()
    assert "93.3 (PubMedBERT) [mention]" in text and "no matching definition: BLURB HoC F1" in text


def test_scoreboard_rows_keep_the_definitions_the_report_wrote() -> None:
    row = {"dataset": "bc5cdr_re", "task": "re", "f1": 0.3, "definition": "string-set"}
    board = {"rows": [{**row, "sota_definition": "concept", "ours_sota_definition": 41.0, "sota_note": ""}]}
    [row] = eval_rows(None, board, "scoreboard.json")
    assert (row.score, row.definition, row.sota_definition, row.score_sota_definition) == (
        30.0, "string-set", "concept", 41.0,
    )  # fmt: skip
    assert board_rows([row])[0]["delta_sota"] == -4.0  # 41.0 - BioGPT's 45.0
