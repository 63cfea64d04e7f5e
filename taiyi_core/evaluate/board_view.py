"""The one terminal rendering of a scoreboard: ``taiyi eval report`` and ``taiyi-status`` both print it.

Rows are in the shape of ``scoreboard.json``'s ``rows`` (``evaluate.report.main_table``): dataset,
lang, task, metric, n, definition, ours (0-100), taiyi, delta_taiyi, chatgpt_gpt35, sota_definition,
ours_sota_definition, sota_note, sota, sota_model, delta_sota, status. Keys a caller does not know are
simply absent and shown as a dash. ``def`` is the scoring definition of Taiyi's and ChatGPT's numbers
(ours is scored the same way); the SOTA number carries its own, with ours under it beside it.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

COLUMNS = (
    "set",
    "lang",
    "task",
    "metric",
    "n",
    "def",
    "ours",
    "Taiyi-1",
    "Δ Taiyi",
    "ChatGPT-3.5",
    "ours (SOTA def)",
    "SOTA",
    "Δ SOTA",
    "status",
)
_LEFT = {"set", "lang", "task", "metric", "def", "status"}
DASH = "–"


def cell(x: Any, signed: bool = False) -> str:
    if x is None:
        return DASH
    if isinstance(x, float):
        return f"{x:+.1f}" if signed else f"{x:.1f}"
    return str(x)


def _delta(d: float | None) -> Text:
    if d is None:
        return Text(DASH)
    return Text(cell(d, signed=True), style="green" if d >= 0 else "red")


def _metric(name: Any) -> str:
    return {"accuracy": "acc", "micro-F1": "F1", "f1": "F1"}.get(str(name), str(name or DASH))


def _sota(r: dict[str, Any]) -> str:
    if r.get("sota") is None:
        return DASH
    text = f"{cell(r['sota'])} ({r['sota_model']})" if r.get("sota_model") else cell(r["sota"])
    return f"{text} [{r['sota_definition']}]" if r.get("sota_definition") else text


def _ours_sota(r: dict[str, Any]) -> str:
    """Ours under the SOTA's definition, or why there is none (never a number from another definition)."""
    if r.get("ours_sota_definition") is not None:
        return cell(r["ours_sota_definition"])
    return str(r.get("sota_note") or DASH) if r.get("status") != "missing" else DASH


def scoreboard_table(title: str, rows: list[dict[str, Any]], averages: list[dict[str, Any]]) -> Table:
    """Scores beside Taiyi-1, ChatGPT-3.5 and SOTA; ``averages`` are footer rows with a ``label`` and
    the same keys as a row (ours, taiyi, delta_taiyi, chatgpt_gpt35, sota)."""
    table = Table(title=title)
    for col in COLUMNS:
        table.add_column(col, justify="left" if col in _LEFT else "right", overflow="fold")
    for r in rows:
        table.add_row(
            Text(str(r["dataset"])),
            Text(str(r.get("lang") or "")),
            Text(str(r.get("task") or "")),
            _metric(r.get("metric")),
            cell(r.get("n")),
            Text(str(r.get("definition") or DASH)),
            cell(r.get("ours")),
            cell(r.get("taiyi")),
            _delta(r.get("delta_taiyi")),
            cell(r.get("chatgpt_gpt35")),
            Text(_ours_sota(r)),
            Text(_sota(r)),
            _delta(r.get("delta_sota")),
            Text(str(r.get("status") or "")),
        )
    if averages:
        table.add_section()
    for a in averages:
        table.add_row(
            Text(str(a["label"]), style="bold"),
            "",
            "",
            "",
            "",
            "",
            cell(a.get("ours")),
            cell(a.get("taiyi")),
            _delta(a.get("delta_taiyi")),
            cell(a.get("chatgpt_gpt35")),
            "",
            cell(a.get("sota")),
            "",
            "",
        )
    return table


def board_averages(average: dict[str, Any]) -> list[dict[str, Any]]:
    """Footer rows of a scoreboard.json ``average`` block: ours over the scored sets, the paper's own."""
    return [
        {
            "label": f"average ({average['sets_scored']}/{average['sets_total']} sets)",
            "ours": average.get("ours"),
            "taiyi": average.get("taiyi_same_sets"),
            "delta_taiyi": average.get("delta_taiyi_same_sets"),
            "chatgpt_gpt35": average.get("chatgpt_same_sets"),
            "sota": average.get("sota_same_sets"),
        },
        {
            "label": "paper average (13)",
            "taiyi": average.get("taiyi_all"),
            "chatgpt_gpt35": average.get("chatgpt_all"),
            "sota": average.get("sota_all"),
        },
    ]
