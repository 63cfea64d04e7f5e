"""Per-dataset caps (seeded samples, as Taiyi's 10k-typical final mix) and the two stage mixes."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from taiyi_core.data.catalog_view import DatasetView
from taiyi_core.data.options import DataOptions, StageOptions


def cap_negatives(
    rows: list[dict[str, Any]], views: dict[str, DatasetView], opts: DataOptions, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(kept, dropped): per dataset, RE training rows whose answer is "no relation" are cut (seeded) to
    at most ``negative_ratio`` of that dataset's RE rows (the mix entry's ratio, else the option's)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    kept: list[dict[str, Any]] = []
    for row in rows:
        (groups[row["dataset"]] if row["task"] == "re" and row["use"] == "train" else kept).append(row)
    dropped: list[dict[str, Any]] = []
    for dataset, group in sorted(groups.items()):
        view = views.get(dataset)
        entry = next((m for m in view.mix if m.task == "re"), None) if view else None
        ratio = _ratio(view, entry, opts)
        negatives = sorted((r for r in group if (r.get("meta") or {}).get("negative")), key=lambda r: r["id"])
        positives = [r for r in group if not (r.get("meta") or {}).get("negative")]
        allowed = len(negatives) if ratio >= 1 else int(ratio * len(positives) / (1 - ratio))
        rng = random.Random(f"{seed}:negatives:{dataset}")
        chosen = set(rng.sample(range(len(negatives)), min(allowed, len(negatives))))
        kept += positives
        for i, row in enumerate(negatives):
            (kept if i in chosen else dropped).append(row)
    return kept, dropped


def _ratio(view: DatasetView | None, entry: Any, opts: DataOptions) -> float:
    raw = (view.raw.get("mix") or []) if view else []
    declared = next((m.get("negative_ratio") for m in raw if m.get("task") == "re"), None)
    return float(declared) if declared is not None else opts.negative_ratio


def apply_caps(
    rows: list[dict[str, Any]], views: dict[str, DatasetView], opts: DataOptions, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(kept, dropped). Each (dataset, task) group is cut to its cap by a seeded sample of rows sorted
    by id, so the same inputs and seed always keep the same rows whatever the input order."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[(row["dataset"], row["task"])].append(row)
    kept: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for (dataset, task), group in sorted(groups.items()):
        view = views.get(dataset)
        catalog_cap = next((m.cap for m in view.mix if m.task == task), None) if view else None
        cap = opts.cap_for(dataset, task, catalog_cap)
        group.sort(key=lambda r: r["id"])
        if cap is None or len(group) <= cap:
            kept += group
            continue
        chosen = set(random.Random(f"{seed}:cap:{dataset}:{task}").sample(range(len(group)), cap))
        for i, row in enumerate(group):
            (kept if i in chosen else dropped).append(row)
    return kept, dropped


def in_stage(row: dict[str, Any], stage: StageOptions) -> bool:
    if stage.tasks != "all" and row["task"] not in stage.tasks:
        return False
    return not (stage.catalog_stage and int(row.get("stage") or 1) != 1)


def messages(row: dict[str, Any]) -> list[dict[str, str]]:
    turns = row.get("turns") or [(row["prompt"], row["target"])]
    out = []
    for user, assistant in turns:
        out += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return out


def sft_columns(rows: list[dict[str, Any]]) -> dict[str, list]:
    return {
        "id": [r["id"] for r in rows],
        "dataset": [r["dataset"] for r in rows],
        "task": [r["task"] for r in rows],
        "lang": [r["lang"] for r in rows],
        "messages": [messages(r) for r in rows],
    }


def shuffled(rows: list[dict[str, Any]], seed: int, stage: int) -> list[dict[str, Any]]:
    out = sorted(rows, key=lambda r: (r["dataset"], r["id"]))
    random.Random(f"{seed}:stage{stage}").shuffle(out)
    return out
