"""The one terminal rendering of a scoreboard: ``taiyi eval report`` and ``taiyi-status`` both print it.

Rows are in the shape of ``scoreboard.json``'s ``rows`` (``evaluate.report.main_table``): dataset,
lang, task, metric, n, ours (0-100), taiyi, delta_taiyi, chatgpt_gpt35, sota, sota_model, status.
Keys a caller does not know are simply absent and shown as a dash.
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
    "ours",
    "Taiyi-1",
    "Δ Taiyi",
    "ChatGPT-3.5",
    "SOTA",
    "status",
)
_LEFT = {"set", "lang", "task", "metric", "status"}
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
    return f"{cell(r['sota'])} ({r['sota_model']})" if r.get("sota_model") else cell(r["sota"])


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
            cell(r.get("ours")),
            cell(r.get("taiyi")),
            _delta(r.get("delta_taiyi")),
            cell(r.get("chatgpt_gpt35")),
            Text(_sota(r)),
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
            cell(a.get("ours")),
            cell(a.get("taiyi")),
            _delta(a.get("delta_taiyi")),
            cell(a.get("chatgpt_gpt35")),
            cell(a.get("sota")),
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
