"""One data array task: raw files -> unified records (Parquet) + quarantine -> instruction rows (JSONL).

Outputs of item ``<dataset>[@k/n]`` (suffix ``.k-of-n`` for a shard):
  data/unified/<dataset>/<split><sfx>.parquet   unified records (columns id, family, document_id, record)
  data/instruct/<dataset>/<split><sfx>.jsonl    instruction rows (train and eval use)
  data/instruct/<dataset>/<split><sfx>.sig.npz  dedup keys + MinHash signatures of its training rows
  data/quarantine/<dataset><sfx>.jsonl          rejected raw records with reasons (reader or render stage;
                                                render lines name the view they failed in)
  data/unified/<dataset>/inventory.json         every label/type of the dataset, all splits (inventory.py)
  data/unified/<dataset>/_item<sfx>.json        counts per split and per view + the input stamp, written LAST

Each file is written atomically and the item file last, so a killed task leaves either nothing or
complete outputs plus a missing/old stamp, and the next run redoes the item. Counts reconcile, as
checks that raise DataStepError: read = written + quarantined (reader stage) and, per view (a mix
entry or an eval set), records = rendered + quarantined — a record failing one view stays in the
others. Each view also gathers the fidelity audit's evidence (data/audit.py).

What the reader cannot see is reported here, as quarantine lines (``stage`` "split") and in the split's
``reasons`` and ``problems``: a split whose id list is missing (that split is not read, the others are),
an empty id list, ids listed that no record carries, and a catalog split whose files are all absent
while others are present. An empty input file the reader said nothing about is quarantined as read.
Symlinks resolving outside the raw folder and the roots in ``TAIYI_RAW_ALLOW`` are refused (base.py).
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from taiyi_core.atomic import atomic_path, write_json, write_jsonl
from taiyi_core.config import REPO_ROOT, Preset
from taiyi_core.data import audit
from taiyi_core.data import inventory as inv
from taiyi_core.data import render as rnd
from taiyi_core.data import signatures as sig
from taiyi_core.data import tokens as tok
from taiyi_core.data.catalog_view import DatasetView
from taiyi_core.data.inventory import Inventory
from taiyi_core.data.items import Item
from taiyi_core.data.options import DataOptions
from taiyi_core.data.stamp import make_stamp
from taiyi_core.formats import Quarantined, get_reader
from taiyi_core.formats.base import links_outside
from taiyi_core.rundir import RunDir
from taiyi_core.tasks.base import RenderError

Progress = Callable[[int], None]


class DataStepError(RuntimeError):
    """A problem that stops a data task, phrased with dataset, split and file."""


def raw_root(preset: Preset) -> Path:
    p = Path(preset.data.raw_dir)
    return p if p.is_absolute() else REPO_ROOT / p


def allowed_roots(preset: Preset) -> list[Path]:
    """Where raw files (and the targets of symlinks in the raw folder) may live: the raw folder and the
    folders in ``TAIYI_RAW_ALLOW`` (separated by ``os.pathsep``, e.g. a shared dataset store)."""
    extra = [Path(p) for p in os.environ.get("TAIYI_RAW_ALLOW", "").split(os.pathsep) if p.strip()]
    return [raw_root(preset), *extra]


def reason_key(reason: str) -> str:
    """Group quarantine reasons: numbers and quoted values replaced, so counts are per kind."""
    key = re.sub(r"'[^']*'|\"[^\"]*\"", "…", reason)
    key = re.sub(r"\d+", "#", key)
    return key[:100]


def item_file(run: RunDir, item: Item) -> Path:
    return run.unified / item.dataset / f"_item{item.suffix}.json"


def stamp_options(preset: Preset, opts: DataOptions) -> dict[str, Any]:
    return {
        "seed": preset.data.seed,
        "decompose_fraction": opts.decompose_fraction,
        "eval_suites": opts.eval_suites,
        "tokens": opts.tokens,
        "tokenizer": tok.tokenizer_name(preset) if opts.tokens else None,
        "signatures": sig.params(opts.dedup),
    }


def _unified_rows(records: list[Any]) -> dict[str, list]:
    return {
        "id": [r.id for r in records],
        "family": [r.family for r in records],
        "document_id": [getattr(r, "document_id", None) for r in records],
        "record": [r.model_dump_json() for r in records],
    }


def _write_parquet(path: Path, records: list[Any]) -> None:
    """Parquet as HF datasets writes it (``load_dataset("parquet", data_files=...)`` reads it back)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pydict(_unified_rows(records), schema=_UNIFIED_SCHEMA()), tmp)


def _UNIFIED_SCHEMA():  # noqa: N802 - a lazily built constant
    import pyarrow as pa

    return pa.schema(
        [("id", pa.string()), ("family", pa.string()), ("document_id", pa.string()), ("record", pa.string())]
    )


def prepare_item(
    run: RunDir,
    preset: Preset,
    opts: DataOptions,
    view: DatasetView,
    item: Item,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Prepare one dataset (or shard); returns the item summary (also written to ``_item*.json``)."""
    present = view.present_splits(raw_root(preset))
    problems = _split_problems(view, raw_root(preset), present) if present else []
    present = {s: fs for s, fs in present.items() if not any(p["split"] == s and p["skip"] for p in problems)}
    if not present:
        raise DataStepError(
            f"dataset {view.name}: no raw files under {view.raw_dir(raw_root(preset))}; "
            f"{view.download_hint()}"
        )
    # shards split by record position: correct for every reader (HoC needs text, labels and split
    # lists together), at the price of each shard parsing the whole dataset
    work, by_position = present, item.shards > 1
    lists = {f for split in work for f in view.split_list_files(raw_root(preset), split)}
    inputs = sorted({f for fs in work.values() for f in fs} | lists)
    roots = allowed_roots(preset)
    # refused symlinks are never read, not even for the stamp; which ones are refused is part of it (a
    # TAIYI_RAW_ALLOW set later makes the item be redone)
    refused = links_outside(inputs, roots)
    stamp_opts = {**stamp_options(preset, opts), "item": str(item)}
    if refused:
        stamp_opts["refused_links"] = sorted(str(link) for link in refused)
    stamp = make_stamp([f for f in inputs if f not in refused], view.fingerprint(), stamp_opts)
    summary_path = item_file(run, item)
    if not force and summary_path.is_file():
        old = json.loads(summary_path.read_text(encoding="utf-8"))
        outputs_ok = all(Path(p).exists() for p in old.get("outputs", []))
        if old.get("stamp") == stamp and outputs_ok:
            return {**old, "skipped": True}

    reader = get_reader(view.reader)
    tokenizer = tok.load_tokenizer(preset) if opts.tokens else None
    seed = preset.data.seed
    train_splits = set(view.train_splits())
    quarantine: list[dict[str, Any]] = []
    splits: dict[str, Any] = {}
    outputs: list[str] = []
    inventory = Inventory()
    read: dict[str, tuple[list[Any], Counter[str], Counter[str]]] = {}
    for split, files in work.items():  # read every split first: the inventory spans all of them
        counts: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        records: list[Any] = []
        position = 0
        documents: set[str] = set()  # of the whole split (every shard reads all of it), for the size audit
        files_named: set[str] = set()  # files the reader yielded something for (empty-file check)
        attributed: set[str] = set()  # listed ids some record or quarantined record carries
        try:
            ids = view.split_ids(raw_root(preset), split)  # None unless the split is an id list
            # a multilingual source (released Taiyi data: language "multi") sets each record's own lang
            lang = view.language if view.language in ("en", "zh") else "en"
            stream = reader.read(files, view.reader_options, dataset=view.name, split=split, lang=lang,
                                 allowed_roots=roots)  # fmt: skip
            for obj in stream:
                files_named.add(obj.file if isinstance(obj, Quarantined) else obj.source.file)
                if ids is not None and not _listed(obj, ids):
                    continue  # a document of another split (the corpus ships all splits together)
                if ids is not None:
                    attributed.add(_attribution(obj))
                if not isinstance(obj, Quarantined):
                    inventory.add(obj)  # every shard counts the whole dataset, so all agree
                    documents.add(str(getattr(obj, "document_id", None) or obj.id))
                mine = not by_position or item.owns(position)
                position += 1
                if not mine:
                    continue
                counts["read"] += 1
                if isinstance(obj, Quarantined):
                    counts["quarantined"] += 1
                    reasons[reason_key(obj.reason)] += 1
                    quarantine.append({**obj.model_dump(), "stage": "read"})
                else:
                    records.append(obj)
                if progress:
                    progress(1)
        except (ValueError, OSError) as exc:  # ReaderError is a ValueError naming dataset/file/line
            raise DataStepError(f"dataset {view.name}, split {split}: {exc}") from exc
        for empty in _empty_files(files, files_named):
            if not by_position or item.owns(0):  # one shard reports it
                q = Quarantined(dataset=view.name, split=split, file=str(empty),
                                reason="empty file: no records (expected the split's records)")  # fmt: skip
                counts["read"] += 1
                counts["quarantined"] += 1
                reasons[reason_key(q.reason)] += 1
                quarantine.append({**q.model_dump(), "stage": "read"})
        if ids is not None and ids - attributed:
            problems.append(_unknown_ids(view, raw_root(preset), split, sorted(ids - attributed)))
        counts["written"] = len(records)
        reconcile(view.name, split, "read", counts["read"], written=counts["written"],
                  quarantined=counts["quarantined"])  # fmt: skip
        counts["whole_records"], counts["whole_documents"] = position, len(documents)
        read[split] = (records, counts, reasons)

    outputs.append(str(inv.write(run.unified, view.name, inventory)))
    plan = [] if view.reader == "firefly_jsonl" else rnd.plan_views(view, inventory, opts.eval_suites)
    split_problems: dict[str, list[str]] = {}
    for p in problems:
        split_problems.setdefault(p["split"], []).append(p["reason"])
        if not by_position or item.owns(0):
            line = {"dataset": view.name, "split": p["split"], "file": p["file"], "reason": p["reason"]}
            quarantine.append({**line, "line": None, "record_id": None, "raw": "", "stage": "split"})
    for split, files in work.items():
        records, counts, reasons = read[split]
        for reason in split_problems.get(split, []) if not by_position or item.owns(0) else []:
            reasons[reason_key(reason)] += 1  # once over the shards, like their quarantine lines
        views = [v for v in plan if (v.use == "train" and split in train_splits)
                 or (v.eval_set is not None and v.eval_set.split == split)]  # fmt: skip
        rows, view_stats = _render_split(records, view, split, views, opts, seed, quarantine, reasons, counts)
        _add_lengths(rows, tokenizer)

        unified = run.unified / view.name / f"{split}{item.suffix}.parquet"
        _write_parquet(unified, records)
        instruct = run.instruct / view.name / f"{split}{item.suffix}.jsonl"
        write_jsonl(instruct, rows)
        sidecar = sig.sidecar_path(instruct)
        sig.write(sidecar, rows, opts.dedup)
        outputs += [str(unified), str(instruct), str(sidecar)]
        splits[split] = {
            "read": counts["read"],
            "written": counts["written"],
            "quarantined": counts["quarantined"],
            "rendered": counts["rendered"],
            "render_quarantined": counts["render_quarantined"],
            "instances": {"train": counts["inst_train"], "eval": counts["inst_eval"]},
            "reasons": dict(reasons),
            "views": view_stats,
            # the whole split as released (all shards), compared with the catalog's published sizes
            "whole": {"records": counts["whole_records"], "documents": counts["whole_documents"]},
            "files": [str(f) for f in files],
            "problems": split_problems.get(split, []),
        }
    qpath = run.quarantine / f"{view.name}{item.suffix}.jsonl"
    write_jsonl(qpath, quarantine)
    outputs.append(str(qpath))
    summary = {
        "dataset": view.name,
        "item": str(item),
        "stamp": stamp,
        "splits": splits,
        "outputs": outputs,
        # splits not read (a missing id list) or absent, with why; also in the quarantine file
        "unread_splits": {s: r for s, r in split_problems.items() if s not in splits},
        "tokenizer": tok.tokenizer_name(preset) if tokenizer is not None else None,
    }
    write_json(summary_path, summary)
    return {**summary, "skipped": False}


def _split_problems(view: DatasetView, root: Path, present: dict[str, list[Path]]) -> list[dict[str, Any]]:
    """What is wrong with the splits before reading: absent splits, missing or empty id lists. Each is
    ``{split, file, reason, skip}``; ``skip``: the split cannot be read (its id list is missing)."""
    out = []
    for split in view.splits:
        if split not in present:
            globs = ", ".join(view.files.get(split, ()))
            out.append({"split": split, "file": str(view.raw_dir(root) / globs), "skip": True,
                        "reason": f"split {split!r}: no file matches {globs!r} under {view.raw_dir(root)} "
                        f"(other splits are present); split not read"})  # fmt: skip
            continue
        if split not in view.split_lists:
            continue
        lists = view.split_list_files(root, split)
        pattern = view.split_lists[split]
        if not lists:
            out.append({"split": split, "file": str(view.raw_dir(root) / pattern), "skip": True,
                        "reason": f"split {split!r} is defined by the id list {pattern!r}, which matches no "
                        f"file under {view.raw_dir(root)}; split not read"})  # fmt: skip
            continue
        for f in lists:
            if not f.read_text(encoding="utf-8-sig").strip():
                out.append({"split": split, "file": str(f), "skip": False,
                            "reason": f"split {split!r}: id list {f.name} is empty (no document is in "
                            "this split from it)"})  # fmt: skip
    return out


def _unknown_ids(view: DatasetView, root: Path, split: str, unknown: list[str]) -> dict[str, Any]:
    lists = view.split_list_files(root, split)
    shown = ", ".join(unknown[:10]) + (f", ... ({len(unknown) - 10} more)" if len(unknown) > 10 else "")
    reason = f"split {split!r}: {len(unknown)} id(s) of the id list name no record read: {shown}"
    return {"split": split, "file": ", ".join(str(f) for f in lists), "skip": False, "reason": reason}


def _empty_files(files: list[Path], named: set[str]) -> list[Path]:
    """Input files with nothing but white space that the reader yielded nothing for."""
    out = []
    for f in files:
        if f.is_file() and str(f) not in named and f.stat().st_size < 4096 and not f.read_bytes().strip():
            out.append(f)
    return out


def _attribution(obj: Any) -> str:
    """The listed id a record (or quarantined record) was attributed to by ``_listed``."""
    if isinstance(obj, Quarantined):
        return obj.record_id if obj.record_id is not None else Path(obj.file).name.split(".")[0]
    return str(getattr(obj, "document_id", None) or obj.id)


def _listed(obj: Any, ids: set[str]) -> bool:
    """Whether a record (or a quarantined raw record) belongs to a split given by document ids."""
    if isinstance(obj, Quarantined):  # kept when it cannot be attributed (a whole-file failure)
        return obj.record_id is None or obj.record_id in ids or Path(obj.file).name.split(".")[0] in ids
    return str(getattr(obj, "document_id", None) or obj.id) in ids


def reconcile(dataset: str, split: str, what: str, total: int, **parts: int) -> None:
    """``total == sum(parts)`` or a DataStepError naming dataset, split and the counts (a real check,
    not an ``assert`` that ``python -O`` would drop): nothing is lost without being counted."""
    if total != sum(parts.values()):
        detail = " + ".join(f"{k} {v}" for k, v in parts.items())
        raise DataStepError(
            f"dataset {dataset}, split {split}: counts do not reconcile for {what}: {total} != {detail}"
        )


def _render_split(
    records: list[Any],
    view: DatasetView,
    split: str,
    views: list[rnd.RenderView],
    opts: DataOptions,
    seed: int,
    quarantine: list[dict[str, Any]],
    reasons: Counter[str],
    counts: Counter[str],
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Rows of every record in every view of this split. A record that cannot be rendered in one view
    is quarantined for THAT view only (a line naming dataset, file, record, view and reason) and stays
    in the others; per view, records = rendered + quarantined is checked. ``counts["rendered"]`` =
    records rendered in every view, ``render_quarantined`` = quarantine lines (record x view)."""
    rows: list[dict[str, Any]] = []
    stats = {v.name: audit.new_view_stats(v) for v in views}
    for record in records:
        if view.reader == "firefly_jsonl":
            out = rnd.passthrough(record, view)
            counts["rendered"] += 1
            for row in out:
                counts["inst_" + row["use"]] += 1
            rows += out
            continue
        failed = False
        for rv in views:
            st = stats[rv.name]
            st["records"] += 1
            audit.observe_record(st, rv, record)
            try:
                out = rnd.render_view(record, view, rv, seed, opts.decompose_fraction)
            except RenderError as exc:
                failed = True
                st["quarantined"] += 1
                key = reason_key(str(exc))
                st["reasons"][key] = st["reasons"].get(key, 0) + 1
                reasons[key] += 1
                counts["render_quarantined"] += 1
                quarantine.append(_render_quarantine(view.name, split, record, rv.name, str(exc)))
                continue
            st["rendered"] += 1
            for row in out:
                audit.observe_row(st, rv, row)
                counts["inst_" + row["use"]] += 1
            rows += out
        counts["rendered"] += not failed
    for name, st in stats.items():
        reconcile(view.name, split, f"view {name}", st["records"], rendered=st["rendered"],
                  quarantined=st["quarantined"])  # fmt: skip
    return rows, stats


def _render_quarantine(dataset: str, split: str, record: Any, view_name: str, reason: str) -> dict[str, Any]:
    src = record.source
    return {
        "dataset": dataset,
        "split": split,
        "file": src.file,
        "line": src.line,
        "record_id": record.id,
        "view": view_name,
        "reason": reason,
        "raw": record.model_dump_json()[:500],
        "stage": "render",
    }


def _add_lengths(rows: list[dict[str, Any]], tokenizer: Any | None) -> None:
    texts = []
    for r in rows:
        pairs = r["turns"] or [(r["prompt"], r["target"])]
        texts.append("\n".join(f"{u}\n{a}" for u, a in pairs))
    counts = tok.count(tokenizer, texts)
    for r, text, n in zip(rows, texts, counts, strict=True):
        r["chars"] = len(text)
        r["tokens"] = n
