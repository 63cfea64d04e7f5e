"""Per-dataset scores of a run beside the paper's (Taiyi, ChatGPT, SOTA), and the data report's totals."""

from __future__ import annotations

from typing import Any

from taiyi_core.evaluate.reference import RefRow, find_main
from taiyi_core.evaluate.score import definition_score
from taiyi_core.status.model import EvalRow


def _score(m: dict[str, Any]) -> tuple[str, float | None]:
    """(metric name, score on 0-100): f1 for extraction/classification, accuracy for QA.

    metrics.json stores fractions (0-1); a value above 1 is taken as already on the paper's 0-100 scale.
    """
    for key, label in (
        ("score", str(m.get("metric") or "score")),
        ("f1", "micro-F1"),
        ("accuracy", "accuracy"),
    ):
        v = m.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return label, float(v) * 100 if v <= 1 else float(v)
    return str(m.get("metric") or "?"), None


def _rows_of_scoreboard(board: Any, source: str) -> list[dict[str, Any]]:
    if isinstance(board, dict):
        for key in ("datasets", "rows", "results", "scores"):
            if key in board:
                board = board[key]
                break
    if isinstance(board, dict):
        return [{"dataset": k, **v} for k, v in board.items() if isinstance(v, dict)]
    if isinstance(board, list) and all(isinstance(r, dict) and "dataset" in r for r in board):
        return board
    raise ValueError(
        f"{source}: unexpected scoreboard shape; expected a list of objects with 'dataset' or an object "
        "keyed by dataset (optionally under 'datasets'/'rows'/'results')"
    )


def _pct(x: float | None) -> float | None:
    return None if x is None else round(x * 100, 1)


def _definitions(m: dict[str, Any], ref: RefRow | None, board: bool) -> dict[str, Any]:
    """The definition fields of a row: as the scoreboard wrote them, or derived from a metrics.json."""
    if ref is None:
        return {}
    if board:
        return {
            "definition": m.get("definition") or ref.definition,
            "sota_definition": m.get("sota_definition") or ref.sota_definition,
            "score_sota_definition": m.get("ours_sota_definition"),
            "sota_note": str(m.get("sota_note") or ""),
        }
    sota, note = definition_score(m, ref.sota_definition) if ref.sota is not None else (None, "")
    return {
        "definition": ref.definition,
        "sota_definition": ref.sota_definition,
        "score_sota_definition": _pct(sota),
        "sota_note": note,
    }


def eval_rows(
    metrics: list[dict[str, Any]] | None, scoreboard: Any = None, source: str = ""
) -> list[EvalRow]:
    """One row per evaluated dataset, joined with the paper's numbers by dataset name or alias; a
    metrics.json row scores ours under the definition of Taiyi's number (and of the SOTA's)."""
    items = _rows_of_scoreboard(scoreboard, source) if scoreboard is not None else (metrics or [])
    rows: list[EvalRow] = []
    for m in items:
        metric, score = _score(m)
        ref = find_main(str(m["dataset"]))
        if ref is not None and scoreboard is None:
            same, _ = definition_score(m, ref.definition)
            score = _pct(same) if same is not None else score
        n = m.get("n")
        rows.append(
            EvalRow(
                dataset=str(m["dataset"]),
                task=m.get("task") or (ref.task if ref else None),
                lang=m.get("lang") or (ref.lang if ref else None),
                metric=metric if metric != "score" or not ref else ref.metric,
                n=int(n) if isinstance(n, int) else None,
                score=score,
                paper_name=ref.paper_name if ref else None,
                taiyi=ref.taiyi if ref else None,
                chatgpt=ref.chatgpt if ref else None,
                sota=ref.sota if ref else None,
                sota_model=ref.sota_model if ref else None,
                **_definitions(m, ref, scoreboard is not None),
            )
        )
    return rows


def eval_summary(rows: list[EvalRow]) -> dict[str, Any]:
    """Means over the datasets that have both our score and the paper's (so they compare like for like)."""
    both = [r for r in rows if r.score is not None and r.taiyi is not None]
    mean = lambda xs: round(sum(xs) / len(xs), 2) if xs else None  # noqa: E731
    return {
        "datasets": len(rows),
        "matched_to_paper": len(both),
        "mean_score": mean([r.score for r in both]),
        "mean_taiyi": mean([r.taiyi for r in both]),
        "mean_chatgpt": mean([r.chatgpt for r in both if r.chatgpt is not None]),
        "mean_sota": mean([r.sota for r in both if r.sota is not None]),
    }


def board_rows(rows: list[EvalRow]) -> list[dict[str, Any]]:
    """Rows in scoreboard.json's shape, for the one scoreboard rendering (evaluate.board_view)."""
    out = []
    for r in rows:
        delta = round(r.score - r.taiyi, 1) if r.score is not None and r.taiyi is not None else None
        out.append(
            {
                "dataset": r.dataset,
                "lang": r.lang,
                "task": r.task,
                "metric": r.metric,
                "n": r.n,
                "ours": None if r.score is None else round(r.score, 1),
                "taiyi": r.taiyi,
                "delta_taiyi": delta,
                "chatgpt_gpt35": r.chatgpt,
                "sota": r.sota,
                "sota_model": r.sota_model,
                "definition": r.definition,
                "sota_definition": r.sota_definition,
                "ours_sota_definition": r.score_sota_definition,
                "delta_sota": round(r.score_sota_definition - r.sota, 1)
                if r.score_sota_definition is not None and r.sota is not None
                else None,
                "sota_note": r.sota_note,
                "status": "ok" if r.score is not None else "missing",
            }
        )
    return out


def data_totals(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``totals`` block of data/report.json (or totals summed over datasets when it is absent)."""
    if report is None:
        return None
    if not isinstance(report, dict):
        raise ValueError(f"expected a JSON object with 'totals' or 'datasets', got {type(report).__name__}")
    if isinstance(report.get("totals"), dict) and report["totals"]:
        return dict(report["totals"])
    datasets = report.get("datasets") or {}
    if not isinstance(datasets, dict) or not all(isinstance(v, dict) for v in datasets.values()):
        raise ValueError("'datasets' should map each dataset to its splits' counts")
    sums: dict[str, float] = {}
    for splits in datasets.values():
        for counts in splits.values():
            for key in ("read", "written", "quarantined", "tokens"):
                v = counts.get(key) if isinstance(counts, dict) else None
                if isinstance(v, int | float):
                    sums[key] = sums.get(key, 0) + v
    return sums or None
