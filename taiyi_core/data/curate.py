"""Curate: instruction rows of every prepared dataset -> evaluation sets, stage mixes, report.

Order: evaluation sets first (they are what training must not see), then on the training rows
exact dedup -> near dedup -> overlap audit against every evaluation set -> per-dataset caps, so the
caps are filled with clean rows. Everything is seeded and sorted before any random choice. Dedup keys
and MinHash signatures come precomputed from the data tasks (signatures.py): only the global part,
hash-set lookups and LSH, runs here.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

from taiyi_core.atomic import atomic_path, write_jsonl
from taiyi_core.catalog import parse_sizes
from taiyi_core.config import Preset
from taiyi_core.data import audit, dedup, firefly, overlap
from taiyi_core.data.catalog_view import DatasetView
from taiyi_core.data.items import Item
from taiyi_core.data.mix import apply_caps, cap_negatives, in_stage, sft_columns, shuffled
from taiyi_core.data.options import DataOptions
from taiyi_core.data.prepare import DataStepError, item_file
from taiyi_core.data.report import build_report
from taiyi_core.data.signatures import Signatures
from taiyi_core.rundir import RunDir

EVAL_KEYS = ("id", "dataset", "task", "lang", "prompt", "target", "input_text")


def _eval_row(row: dict[str, Any]) -> dict[str, Any]:
    """An eval-set line: the instance, plus the ``reference`` gold (offsets, ids, options) when rendered."""
    out = {k: row[k] for k in EVAL_KEYS}
    if row.get("reference") is not None:
        out["reference"] = row["reference"]
    return out


def load_rows(run: RunDir, datasets: list[str], signatures: Signatures | None = None) -> list[dict[str, Any]]:
    """Instruction rows of ``datasets``; with ``signatures``, each file's stored signatures attached."""
    rows = []
    for name in datasets:
        for path in sorted((run.instruct / name).glob("*.jsonl")):
            with path.open(encoding="utf-8") as fh:
                file_rows = [json.loads(line) for line in fh if line.strip()]
            if signatures is not None:
                signatures.attach(path, file_rows)
            rows += file_rows
    return rows


def load_items(run: RunDir, items: list[Item]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        path = item_file(run, item)
        if not path.is_file():
            raise DataStepError(
                f"curate: data task {item} has not finished (no {path}); run or resubmit the data step first"
            )
        out.append(json.loads(path.read_text(encoding="utf-8")))
    return out


def _save_sft(path: Path, rows: list[dict[str, Any]]) -> None:
    import datasets
    from datasets import Dataset, Features, List, Value

    bars = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()

    features = Features(
        {
            "id": Value("string"),
            "dataset": Value("string"),
            "task": Value("string"),
            "lang": Value("string"),
            "messages": List({"role": Value("string"), "content": Value("string")}),
        }
    )
    with atomic_path(path) as tmp:
        Dataset.from_dict(sft_columns(rows), features=features).save_to_disk(str(tmp))
    if bars:
        datasets.enable_progress_bars()


def group_eval_rows(
    rows: list[dict[str, Any]], opts: DataOptions, seed: int
) -> dict[str, list[dict[str, Any]]]:
    """The eval-use rows by eval set, sorted by id, each set capped at ``eval_max`` (seeded)."""
    eval_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["use"] == "eval":
            eval_rows[r["eval_set"]].append(r)
    for name, group in eval_rows.items():
        group.sort(key=lambda r: r["id"])
        if opts.eval_max and len(group) > opts.eval_max:
            keep = set(random.Random(f"{seed}:eval:{name}").sample(range(len(group)), opts.eval_max))
            eval_rows[name] = [r for i, r in enumerate(group) if i in keep]
    return dict(eval_rows)


def write_eval_sets(run: RunDir, eval_rows: dict[str, list[dict[str, Any]]]) -> None:
    """``data/eval/<set>.jsonl``, one instance per line (the contract evaluate/io.py reads)."""
    for name, group in sorted(eval_rows.items()):
        write_jsonl(run.eval_data / f"{name}.jsonl", (_eval_row(r) for r in group))


def curate_run(
    run: RunDir,
    preset: Preset,
    opts: DataOptions,
    views: dict[str, DatasetView],
    items: list[Item],
    missing: list[dict[str, str]],
    tokenizer_label: str | None,
) -> dict[str, Any]:
    seed = preset.data.seed
    summaries = load_items(run, items)
    datasets = sorted({i.dataset for i in items})
    sigs = Signatures(opts.dedup)
    rows = load_rows(run, datasets, sigs)
    train = sorted((r for r in rows if r["use"] == "train"), key=lambda r: (r["dataset"], r["id"]))
    eval_rows = group_eval_rows(rows, opts, seed)
    for stale in run.eval_data.glob("*.jsonl") if run.eval_data.is_dir() else []:
        if stale.stem not in eval_rows:
            stale.unlink()
    write_eval_sets(run, eval_rows)

    removed: dict[str, list[dict[str, Any]]] = {}
    if opts.dedup.exact:
        train, removed["dedup_exact"] = dedup.exact_dedup(train, key_of=sigs.key)
    if opts.dedup.near:
        train, removed["dedup_near"] = dedup.near_dedup(
            train,
            threshold=opts.dedup.threshold,
            num_perm=opts.dedup.num_perm,
            shingle=opts.dedup.shingle,
            minhash_of=sigs.minhash,
        )
    pairs: dict[tuple[str, str], Any] = {}
    if opts.overlap.enabled and eval_rows:
        index = overlap.build_index(eval_rows, opts.overlap.ngram)
        train, removed["overlap"], pairs = overlap.audit(
            train, index, threshold=opts.overlap.threshold, doc_ids=opts.overlap.doc_ids
        )
    train, removed["negatives_capped"] = cap_negatives(train, views, opts, seed)
    train, removed["capped"] = apply_caps(train, views, opts, seed)

    stage1 = shuffled([r for r in train if in_stage(r, opts.stage1)], seed, 1)
    stage2 = shuffled([r for r in train if in_stage(r, opts.stage2)], seed, 2)
    for n, stage_rows in ((1, stage1), (2, stage2)):
        _save_sft(run.sft(n), stage_rows)
        write_jsonl(
            run.data / "firefly" / f"stage{n}.jsonl",
            firefly.export_rows({**r, "messages": sft_columns([r])["messages"][0]} for r in stage_rows),
        )
    write_jsonl(
        run.data / "removed.jsonl",
        (
            {
                "why": why,
                "dataset": r["dataset"],
                "split": r["split"],
                "id": r["id"],
                "dup_of": r.get("dup_of"),
                "leaks": r.get("leaks"),
            }
            for why, rs in removed.items()
            for r in rs
        ),
    )
    published = {n: parse_sizes(v.raw["sizes"]) for n, v in views.items() if v.raw.get("sizes")}
    fidelity = audit.build(summaries, published, sizes=opts.audit.sizes, tolerance=opts.audit.size_tolerance)
    return build_report(
        audit=fidelity,
        summaries=summaries,
        kept=train,
        stages={1: stage1, 2: stage2},
        eval_rows=eval_rows,
        removed=removed,
        pairs=pairs,
        missing=missing,
        tokenizer_label=tokenizer_label,
    )
