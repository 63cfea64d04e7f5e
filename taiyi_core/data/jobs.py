"""Entries of the data and curate steps (jobs/pipeline.yaml): ``entry(run, preset, item, **kwargs)``."""

from __future__ import annotations

import difflib
import logging
import sys
from typing import Any

from taiyi_core.atomic import write_json
from taiyi_core.config import ConfigError, Preset
from taiyi_core.data import tokens as tok
from taiyi_core.data.catalog_view import EVAL_ROLES, TRAIN_ROLES, DatasetView, load_views
from taiyi_core.data.curate import curate_run
from taiyi_core.data.items import Item, expand
from taiyi_core.data.options import DataOptions, data_options
from taiyi_core.data.prepare import DataStepError, Progress, prepare_item, raw_root
from taiyi_core.rundir import RunDir

log = logging.getLogger(__name__)


def select(preset: Preset) -> tuple[list[DatasetView], list[dict[str, str]]]:
    """(datasets to prepare, missing ones with how to get them) for ``preset.data.datasets``."""
    views = load_views()
    root = raw_root(preset)
    if preset.data.datasets == "all":
        wanted = [v for v in views.values() if v.role in TRAIN_ROLES + EVAL_ROLES]
    else:
        unknown = [n for n in preset.data.datasets if n not in views]
        if unknown:
            hints = [
                f"{n!r}"
                + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(n, views, 1)) else "")
                for n in unknown
            ]
            raise ConfigError(
                f"preset {preset.name!r}: data.datasets names unknown datasets: {', '.join(hints)}"
            )
        wanted = [views[n] for n in preset.data.datasets]
    ready, missing = [], []
    for v in sorted(wanted, key=lambda v: v.name):
        if v.present_splits(root):
            ready.append(v)
        else:
            missing.append({"dataset": v.name, "raw_dir": str(v.raw_dir(root)), "how": v.download_hint()})
    return ready, missing


def datasets_to_prepare(preset: Preset) -> list[str]:
    """Array items of the data step: one per dataset, or ``name@k/n`` for the shards of a large one."""
    opts = data_options(preset)
    ready, missing = select(preset)
    if missing:
        print(
            f"data: {len(ready)} dataset(s) with raw files; {len(missing)} selected dataset(s) have none "
            f"and are skipped (e.g. {', '.join(m['dataset'] for m in missing[:5])}; all are listed with "
            f"download instructions in data/report.json and by `taiyi catalog check`)",
            file=sys.stderr,
        )
    return [it for v in ready for it in expand(v.name, opts.shards.get(v.name, 1))]


def prepare_dataset(
    run: RunDir, preset: Preset, item: str | None, *, force: bool = False, progress: Progress | None = None
) -> dict[str, Any]:
    """Data step task: prepare one dataset or shard (skipped when its input stamp is unchanged)."""
    if item is None:
        raise ValueError("prepare_dataset needs an item (a dataset name or name@k/n)")
    it = Item.parse(item)
    views = load_views()
    if it.dataset not in views:
        raise ConfigError(f"data item {item!r}: no dataset {it.dataset!r} in the catalog")
    result = prepare_item(
        run, preset, data_options(preset), views[it.dataset], it, force=force, progress=progress
    )
    log.info("data %s: %s", item, "unchanged, skipped" if result["skipped"] else "prepared")
    return result


def curate(run: RunDir, preset: Preset, item: str | None = None) -> dict[str, Any]:
    """Curate step: caps, dedup, overlap audit, stage mixes, eval sets and data/report.json."""
    opts: DataOptions = data_options(preset)
    ready, missing = select(preset)
    items = [Item.parse(i) for v in ready for i in expand(v.name, opts.shards.get(v.name, 1))]
    tokenizer = tok.load_tokenizer(preset) if opts.tokens else None
    label = tok.tokenizer_name(preset) if tokenizer is not None else None
    report = curate_run(run, preset, opts, {v.name: v for v in ready}, items, missing, label)
    write_json(run.data / "report.json", report)
    if opts.audit.fail and not report["audit"]["ok"]:
        raise AuditFailed(report)
    return report


class AuditFailed(DataStepError):
    """The fidelity audit has red rows (everything is written; data/report.json says which)."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.report = report
        red = [f"{r['dataset']} {r['view']}: {'; '.join(r['problems'])}" for r in report["audit"]["rows"]
               if r["status"] == "red"]  # fmt: skip
        super().__init__(f"fidelity audit failed ({len(red)} red row(s)): " + " | ".join(red[:5]))
