"""Pipeline entry points of the eval steps (jobs/pipeline.yaml): one array task per eval set, then the report.

``evaluate_dataset`` is idempotent: a set whose metrics.json matches the current fingerprint
(model, adapter weights hash, decoding, eval-file hash, limit, backend) is skipped unless ``force``.
A killed task resumes from predictions.jsonl; changed settings start the set over (the old
predictions are kept beside as ``predictions.stale.jsonl``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from taiyi_core.atomic import write_json
from taiyi_core.config import ConfigError, Preset
from taiyi_core.evaluate.backends import make_generator
from taiyi_core.evaluate.config import EvalSettings, eval_settings, fingerprint
from taiyi_core.evaluate.generate import generate_all
from taiyi_core.evaluate.io import EvalDataError, PredictionStore, file_hash, read_eval_rows
from taiyi_core.evaluate.prompting import Prompting, resolve_prompting
from taiyi_core.evaluate.report import write_scoreboard
from taiyi_core.evaluate.score import score_dataset
from taiyi_core.evaluate.weights import resolve_weights
from taiyi_core.rundir import RunDir

log = logging.getLogger(__name__)


def datasets_to_evaluate(preset: Preset) -> list[str]:
    """Array items of the eval step: the preset's ``eval.datasets`` (the paper's 14 by default)."""
    return list(eval_settings(preset, f"preset {preset.name}").datasets)


def resolve_backend(settings: EvalSettings) -> str:
    if settings.backend != "auto":
        return settings.backend
    from taiyi_core.evaluate.backends.vllm import vllm_usable

    return "vllm" if vllm_usable() else "hf"


def _metrics_current(path: Any, fp: str, n: int) -> bool:
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return False
    return m.get("fingerprint") == fp and m.get("n") == n and m.get("missing") == 0


def evaluate_dataset(
    run: RunDir,
    preset: Preset | None,
    item: str | None = None,
    *,
    force: bool = False,
    settings: EvalSettings | None = None,
    on_batch: Callable[[int], None] | None = None,
    on_start: Callable[[int, int], None] | None = None,
    prompting: Prompting | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Generate and score one eval set; returns the metrics (or a skip record).

    ``overrides`` are eval-settings keys (e.g. ``adapter="none"``, ``limit=20``) applied over the
    preset's ``eval:`` section. ``on_start(total, todo)`` and ``on_batch(k)`` feed a progress bar.
    ``prompting`` (prompt format and stop ids) is resolved from the weights when not given.
    """
    if item is None:
        raise ValueError("evaluate_dataset needs the eval set name (the array item)")
    if preset is None:
        raise ConfigError("evaluate_dataset needs a preset (model and eval settings)")
    settings = settings or eval_settings(preset, f"preset {preset.name}", **overrides)
    eval_file = run.eval_data / f"{item}.jsonl"
    if not eval_file.is_file():
        if settings.missing == "skip":
            log.warning("%s: no eval file, skipped (eval.missing: skip)", eval_file)
            return {"dataset": item, "status": "skipped", "reason": f"{eval_file} not found"}
        raise EvalDataError(
            f"eval set {item!r}: {eval_file} not found (the curate step writes it); "
            "remove it from eval.datasets or set eval.missing: skip"
        )
    rows = read_eval_rows(eval_file, limit=settings.limit)
    weights = resolve_weights(preset.model, settings.adapter, run)
    prompting = prompting or resolve_prompting(weights, settings)
    backend = resolve_backend(settings)
    task = rows[0].task
    generation: dict[str, Any] = {
        "dataset": item,
        "dataset_version": file_hash(eval_file),
        "limit": settings.limit,
        "backend": backend,
        "decoding": settings.decoding.as_record(),
        "max_new_tokens": settings.new_tokens_for(task),
        "max_prompt_tokens": settings.max_prompt_tokens,
        **prompting.record(),
        "stop_tokens": settings.stop_tokens,
        "dtype": settings.dtype,
        "load_in_4bit": settings.load_in_4bit,
        **weights.record(),
    }
    fp = fingerprint(generation)
    generation["fingerprint"] = fp
    out = run.eval(item)
    if not force and _metrics_current(out / "metrics.json", fp, len(rows)):
        log.info("%s: metrics.json is current (fingerprint %s), skipped", item, fp)
        return {"dataset": item, "status": "done", "skipped": True, **_read(out / "metrics.json")}

    store = PredictionStore(out / "predictions.jsonl")
    gen_file = out / "generation.json"
    previous = _read(gen_file).get("fingerprint") if gen_file.is_file() else None
    if store.path.exists() and (force or previous != fp):
        stale = out / "predictions.stale.jsonl"
        store.path.replace(stale)
        log.warning("%s: settings changed or forced; earlier predictions moved to %s", item, stale)
    (out / "metrics.json").unlink(missing_ok=True)
    write_json(gen_file, generation)

    existing = store.load()
    done_before = len(existing)
    todo = sum(1 for r in rows if r.id not in existing)
    if on_start is not None:
        on_start(len(rows), todo)
    stats: dict[str, Any] = {"resumed_with": done_before}
    if todo:
        generator = make_generator(weights, settings, prompting)
        t0 = time.perf_counter()
        preds = generate_all(
            rows, generator, settings.new_tokens_for(task), settings.decoding, store, on_batch
        )
        seconds = time.perf_counter() - t0
        new_tokens = sum(p.get("new_tokens", 0) for k, p in preds.items() if k not in existing)
        stats.update(  # this attempt's speed
            generation_seconds=round(seconds, 3),
            tokens_per_s=round(new_tokens / seconds, 2) if seconds > 0 else None,
        )
    stats.update(_set_totals(store.load(), {r.id for r in rows}))
    write_json(gen_file, {**generation, **stats})
    _reorder(store, [r.id for r in rows])
    metrics = score_dataset(run, item, limit=settings.limit)
    return {"status": "done", "skipped": False, **metrics}


def _set_totals(preds: dict[str, dict[str, Any]], ids: set[str]) -> dict[str, Any]:
    """Counts over every prediction of the set, whichever attempt wrote it (a resumed evaluation
    records the same totals as one that was never interrupted)."""
    rows = [p for k, p in preds.items() if k in ids]
    return {
        "generated_tokens": sum(int(p.get("new_tokens") or 0) for p in rows),
        "prompt_truncated": sum(1 for p in rows if p.get("prompt_truncated")),
    }


def _reorder(store: PredictionStore, order: list[str]) -> None:
    """Rewrite predictions.jsonl in eval-file order once complete (generation ran longest first)."""
    from taiyi_core.atomic import write_jsonl

    rows = store.load()
    rank = {k: i for i, k in enumerate(order)}
    write_jsonl(store.path, sorted(rows.values(), key=lambda r: rank.get(r["id"], len(rank))))


def _read(path: Any) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def write_report(
    run: RunDir, preset: Preset | None = None, item: str | None = None, **_: Any
) -> dict[str, Any]:
    """The report step: scoreboard.md + scoreboard.json under eval/."""
    board, folder = write_scoreboard(run)
    return {"scoreboard": str(folder / "scoreboard.md"), "average": board["average"]}
