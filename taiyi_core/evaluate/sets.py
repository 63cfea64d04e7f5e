"""Evaluation sets for ``taiyi eval run --model``: the run's ``data/eval/*.jsonl``, prepared from the
raw files when the run has none.

Only the eval side of the data pipeline runs, in this process, through the data steps' own code:
``prepare_item`` for each dataset that holds a wanted set (reader, render, quarantine, stamps), then
curate's grouping and writing of eval sets (``group_eval_rows``, ``write_eval_sets``). No training
mix, dedup or SFT dataset is built.
"""

from __future__ import annotations

from dataclasses import dataclass

from taiyi_core.config import ConfigError, Preset
from taiyi_core.data.catalog_view import DatasetView, load_views
from taiyi_core.data.curate import group_eval_rows, load_rows, write_eval_sets
from taiyi_core.data.items import Item
from taiyi_core.data.options import data_options
from taiyi_core.data.prepare import prepare_item, raw_root
from taiyi_core.rundir import RunDir


@dataclass(frozen=True)
class SetPlan:
    present: list[str]  # already in the run's data/eval
    to_prepare: dict[str, list[str]]  # dataset -> the wanted sets it renders
    unavailable: dict[str, str]  # set -> why it cannot be prepared (no raw files, unknown name)


def _eval_set_owners(views: dict[str, DatasetView]) -> dict[str, DatasetView]:
    return {es.name: v for v in views.values() for es in v.eval_sets}


def plan_sets(run: RunDir, preset: Preset, names: list[str]) -> SetPlan:
    """Which of ``names`` the run has, which can be prepared from raw files, and which cannot (why)."""
    views = load_views()
    owners = _eval_set_owners(views)
    root = raw_root(preset)
    present, unavailable = [], {}
    to_prepare: dict[str, list[str]] = {}
    for name in names:
        if (run.eval_data / f"{name}.jsonl").is_file():
            present.append(name)
        elif name not in owners:
            unavailable[name] = "no dataset in the catalog has an eval set of this name"
        elif not owners[name].present_splits(root):
            view = owners[name]
            unavailable[name] = f"no raw files under {view.raw_dir(root)}; {view.download_hint()}"
        else:
            to_prepare.setdefault(owners[name].name, []).append(name)
    return SetPlan(present, to_prepare, unavailable)


def prepare_eval_sets(run: RunDir, preset: Preset, plan: SetPlan) -> dict[str, int]:
    """Prepare the planned datasets and write their wanted eval sets; returns instances per set."""
    views = load_views()
    opts = data_options(preset)
    wanted = {s for sets in plan.to_prepare.values() for s in sets}
    # a wanted set outside the preset's eval suites is still rendered: it was asked for by name
    asked = {suite for v in views.values() for es in v.eval_sets if es.name in wanted for suite in es.suites}
    opts = opts.model_copy(update={"eval_suites": sorted({*opts.eval_suites, *asked}), "tokens": False})
    datasets = sorted(plan.to_prepare)
    for dataset in datasets:
        prepare_item(run, preset, opts, views[dataset], Item(dataset))
    rows = [r for r in load_rows(run, datasets) if r["use"] == "eval" and r["eval_set"] in wanted]
    groups = group_eval_rows(rows, opts, preset.data.seed)
    empty = sorted(wanted - set(groups))
    if empty:
        raise ConfigError(
            f"eval set(s) {', '.join(empty)}: the raw files were read but rendered no instances "
            f"(see {run.quarantine} for rejected records)"
        )
    write_eval_sets(run, groups)
    return {name: len(group) for name, group in sorted(groups.items())}
