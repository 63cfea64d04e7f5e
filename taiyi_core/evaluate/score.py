"""Offline scoring: saved predictions -> the task module's parse + score -> metrics.json.

Two entry points share ``score_texts``:
- a run's dataset (``eval/<dataset>/predictions.jsonl`` against ``data/eval/<dataset>.jsonl``),
  which also records what produced the predictions (``generation.json``: model, adapter, decoding);
- file level: a gold and a prediction JSONL of {"id", "text"} lines (``taiyi eval score --gold``).

A gold id without a prediction is scored as an empty, unparseable prediction (it counts as a parse
failure and, for extraction tasks, every gold item becomes a false negative); its id is listed in
``missing_ids``. Prediction ids absent from gold are ignored for the score and listed in ``extra_ids``.
A gold target that the task cannot parse is a data error and stops scoring with its id named.

Every scoring definition that applies to the set (taiyi_core/tasks/definitions.py: ``string-set``,
``mention``, ``concept``, ``accuracy``, ...) is computed and stored under ``definitions``; the
top-level P/R/F1 or accuracy stay the task's headline (``string-set`` for ner/re/tc), and
``definition`` names the one a caller asked for (``taiyi eval score --definition``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from taiyi_core.atomic import write_json
from taiyi_core.evaluate.io import EvalDataError, PredictionStore, file_hash, read_eval_rows
from taiyi_core.rundir import RunDir
from taiyi_core.tasks import Parsed, get_task
from taiyi_core.tasks.definitions import DEFINITIONS, main_key, score_all

LISTED_IDS = 50  # how many missing/extra ids metrics.json lists (the counts are always complete)


def primary_metric(metrics: Mapping[str, Any]) -> str:
    """The headline key of a metrics dict: micro-F1 where the task has one, else accuracy."""
    for key in ("f1", "accuracy", "micro_f1"):
        if isinstance(metrics.get(key), int | float):
            return key
    raise KeyError(f"metrics have none of f1/accuracy/micro_f1 (keys: {sorted(metrics)})")


def score_texts(
    task: str,
    gold: Mapping[str, tuple[str, str]],
    pred: Mapping[str, str],
    inputs: Mapping[str, str] | None = None,
    references: Mapping[str, dict[str, Any] | None] | None = None,
    definition: str | None = None,
    **task_opts: Any,
) -> dict[str, Any]:
    """Score predictions against gold targets. ``gold`` maps id -> (lang, target text), in order;
    ``references`` maps id -> the eval row's ``reference`` (gold offsets, ids, options)."""
    if definition is not None and definition not in DEFINITIONS:
        raise EvalDataError(f"unknown scoring definition {definition!r}; known: {', '.join(DEFINITIONS)}")
    module = get_task(task)
    golds: list[Any] = []
    preds: list[Parsed] = []
    bad_gold: list[str] = []
    missing: list[str] = []
    for key, (lang, target) in gold.items():
        g = module.parse(target, lang)
        if not g.ok:
            bad_gold.append(f"{key} ({g.error})")
        golds.append(g.value)
        if key in pred:
            preds.append(module.parse(pred[key], lang))
        else:
            missing.append(key)
            empty = module.parse("", lang)
            preds.append(Parsed(empty.value, ok=False, error="missing prediction"))
    if bad_gold:
        raise EvalDataError(
            f"{len(bad_gold)} gold target(s) are not valid {task} outputs, e.g. {'; '.join(bad_gold[:3])}"
        )
    ins = None
    if inputs is not None and all(inputs.get(k) for k in gold):
        ins = [inputs[k] for k in gold]
    refs = None
    if references is not None:
        known = {k: r for k in gold if (r := references.get(k)) is not None}
        refs = [known[k] for k in gold] if len(known) == len(gold) else None
    result = dict(module.score(golds, preds, ins, **task_opts))
    defs = score_all(task, result, golds, preds, ins, refs)
    if definition is not None and definition not in defs:
        hint = "" if refs else " (mention/concept/alternatives need eval rows that carry 'reference' gold)"
        raise EvalDataError(
            f"definition {definition!r} does not apply to this {task} set; applicable: "
            f"{', '.join(defs) or 'none'}{hint}"
        )
    extra = [k for k in pred if k not in gold]
    result.update(
        {
            "task": task,
            "missing": len(missing),
            "missing_ids": missing[:LISTED_IDS],
            "missing_scored_as": "empty text, unparseable (counted in parse_failures)",
            "extra": len(extra),
            "extra_ids": extra[:LISTED_IDS],
            "definitions": defs,
            "definition": definition or next(iter(defs), None),
        }
    )
    result["primary_metric"] = primary_metric(result)
    return result


def selected_score(result: Mapping[str, Any]) -> tuple[str, str, float]:
    """(definition, metric key, fraction) of the definition a result was asked for (else its headline)."""
    name = result.get("definition")
    defs = result.get("definitions") or {}
    if name is not None and name in defs:
        key = main_key(defs[name])
        return name, key, float(defs[name][key])
    key = primary_metric(result)
    return ("headline" if not name else f"{name} n/a: headline"), key, float(result[key])


def definition_score(metrics: Mapping[str, Any] | None, definition: str) -> tuple[float | None, str]:
    """Our fraction under ``definition`` from a metrics.json, or None and why (for the scoreboards).

    A metrics.json written before definitions existed has only the headline, which is ``string-set``
    (ner/re/tc) or ``accuracy`` (qa tasks): it stands for those two and nothing else.
    """
    if metrics is None:
        return None, "not scored"
    if not definition:
        return None, ""
    if definition.startswith("other:"):
        return None, f"no matching definition: {definition.removeprefix('other:').strip()}"
    defs = metrics.get("definitions")
    if isinstance(defs, Mapping):
        if definition in defs:
            d = defs[definition]
            return float(d[d.get("main") or main_key(d)]), ""
        return None, f"not scored under {definition} (applies: {', '.join(defs) or 'none'})"
    key = {"string-set": "f1", "accuracy": "accuracy"}.get(definition)
    if key and isinstance(metrics.get(key), int | float):
        return float(metrics[key]), ""
    return None, f"not scored under {definition} (metrics.json has no definitions)"


def score_dataset(
    run: RunDir, dataset: str, limit: int | None = None, definition: str | None = None
) -> dict[str, Any]:
    """Score ``eval/<dataset>/predictions.jsonl`` and write ``metrics.json`` atomically; the returned
    record names ``definition`` as the one to show (a set it does not apply to shows its headline)."""
    eval_file = run.eval_data / f"{dataset}.jsonl"
    rows = read_eval_rows(eval_file, limit=limit)
    out_dir = run.eval(dataset)
    gen_file = out_dir / "generation.json"
    generation = json.loads(gen_file.read_text(encoding="utf-8")) if gen_file.is_file() else {}
    store = PredictionStore(out_dir / "predictions.jsonl")
    predictions = store.load()
    if not predictions:
        raise EvalDataError(f"{store.path}: no predictions to score (run `taiyi eval run` first)")
    ids = {r.id for r in rows}
    metrics = score_texts(
        rows[0].task,
        {r.id: (r.lang, r.target) for r in rows},
        {k: v["prediction"] for k, v in predictions.items() if k in ids or limit is None},
        {r.id: r.input_text for r in rows},
        {r.id: r.reference for r in rows},
    )
    langs = sorted({r.lang for r in rows})
    record = {
        "dataset": dataset,
        "task": rows[0].task,
        "lang": langs[0] if len(langs) == 1 else "+".join(langs),
        **metrics,
        "decoding": generation.get("decoding"),
        "model": generation.get("model"),
        "adapter": generation.get("adapter"),
        "backend": generation.get("backend"),
        "prompt_format": generation.get("prompt_format"),
        "stop_ids": generation.get("stop_ids"),
        "dataset_version": file_hash(eval_file),
        "eval_file": str(eval_file),
        "limit": limit,
        "fingerprint": generation.get("fingerprint"),
        "git_commit": _git_commit(),
    }
    for key in ("prompt_truncated", "generated_tokens", "generation_seconds", "tokens_per_s"):
        if key in generation:
            record[key] = generation[key]
    write_json(out_dir / "metrics.json", record)
    if definition is not None:  # what to show; metrics.json holds every definition either way
        if definition not in DEFINITIONS:
            raise EvalDataError(f"unknown scoring definition {definition!r}; known: {', '.join(DEFINITIONS)}")
        record = {**record, "definition": definition}
    return record


def _is_eval_file(path: Path) -> bool:
    """True when ``path`` is an eval-set file (data/eval/<set>.jsonl rows with a ``target``)."""
    if not path.is_file():
        return False
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                try:
                    first = json.loads(line)
                except json.JSONDecodeError:
                    return False
                return isinstance(first, dict) and "target" in first and "text" not in first
    return False


def score_files(
    task: str,
    lang: str,
    gold_path: Path,
    pred_path: Path,
    definition: str | None = None,
    **task_opts: Any,
) -> dict[str, Any]:
    """File-level scoring of {"id", "text"} prediction lines against {"id", "text"} gold lines, or
    against an eval-set file (its rows' ``input_text`` and ``reference`` enable every definition)."""
    from taiyi_core.evaluate.io import read_id_text

    inputs = references = None
    if _is_eval_file(gold_path):
        rows = read_eval_rows(gold_path)
        if rows[0].task != task:
            raise EvalDataError(f"{gold_path}: an eval set of task {rows[0].task!r}, not {task!r}")
        gold_rows = {r.id: (r.lang, r.target) for r in rows}
        inputs = {r.id: r.input_text for r in rows}
        references = {r.id: r.reference for r in rows}
    else:
        gold, gold_dups = read_id_text(gold_path)
        if gold_dups:
            raise EvalDataError(f"{gold_path}: duplicate id(s) {', '.join(gold_dups[:5])}")
        if not gold:
            raise EvalDataError(f"{gold_path}: no gold lines")
        gold_rows = {k: (lang, v) for k, v in gold.items()}
    pred, pred_dups = read_id_text(pred_path)
    result = score_texts(task, gold_rows, pred, inputs, references, definition, **task_opts)
    result.update(
        {
            "lang": lang,
            "gold": str(gold_path),
            "pred": str(pred_path),
            "gold_version": file_hash(gold_path),
            "pred_duplicate_ids": pred_dups[:LISTED_IDS],
        }
    )
    return result


def _git_commit() -> str | None:
    from taiyi_core.launch.manifest import git_commit

    return git_commit()
