"""Unified record -> instruction rows, with the task modules (seeded per record, so shards agree).

Training splits render every mix entry of the dataset (one task each); with probability
``decompose_fraction`` an extraction record is rendered as one request per type instead of one
request for all types (Taiyi's task decomposition). Evaluation splits render each eval set on
that split with its own options and never decompose, as the paper evaluates all types at once.
Released Firefly/Taiyi conversations (reader ``firefly_jsonl``) pass through without templates.
"""

from __future__ import annotations

import inspect
import random
from dataclasses import asdict
from typing import Any

from taiyi_core.data.catalog_view import DatasetView, EvalSet, MixEntry
from taiyi_core.tasks import get_task
from taiyi_core.tasks.base import Instance
from taiyi_core.tasks.references import reference

# Taiyi's repo categories -> our task names (reverse import of the released data)
CATEGORY_TASK = {
    "NER": "ner",
    "RE": "re",
    "EE": "ee",
    "TC": "tc",
    "TP-ss": "sts",
    "TP-te": "sts",
    "MT-en2zh": "mt",
    "MT-zh2en": "mt",
    "QA_choice": "mcqa",
    "QA_sqa": "qa",
    "QA_cqa": "cqa",
    "MRD": "dialogue",
    "TT-ds": "t2t",
    "TT-ts": "t2s",
    "ADD": "report",
    "COT": "qa",
}
TASK_CATEGORY = {
    "ner": "NER",
    "re": "RE",
    "ee": "EE",
    "norm": "NER",
    "tc": "TC",
    "sts": "TP-ss",
    "mt": "MT-zh2en",
    "mcqa": "QA_choice",
    "yesno": "QA_choice",
    "qa": "QA_sqa",
    "cqa": "QA_cqa",
    "dialogue": "MRD",
    "t2t": "TT-ds",
    "report": "ADD",
    "t2s": "ADD",
}


def record_rng(seed: int, dataset: str, what: str, record_id: str) -> random.Random:
    """One generator per (dataset, task or eval set, record): the same record renders the same way
    whatever the sharding or file order."""
    return random.Random(f"{seed}:{dataset}:{what}:{record_id}")


def _accepted(render: Any, opts: dict[str, Any]) -> dict[str, Any]:
    params = inspect.signature(render).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return opts
    return {k: v for k, v in opts.items() if k in params}


def _restrict(record: Any, opts: dict[str, Any]) -> Any:
    """An eval set asking for some types only (BC5CDR-Chem) sees only those entities/relations."""
    types, rels = opts.get("types"), opts.get("relation_types")
    update: dict[str, Any] = {}
    if types is not None and getattr(record, "entities", None) is not None:
        update["entities"] = [e for e in record.entities if e.type in types]
    if rels is not None and getattr(record, "relations", None) is not None:
        update["relations"] = [r for r in record.relations if r.type in rels]
    return record.model_copy(update=update) if update else record


def _document_id(record: Any) -> str | None:
    meta = getattr(record, "meta", {}) or {}
    return meta.get("pmid") or getattr(record, "document_id", None)


def _row(
    inst: Instance, record: Any, *, use: str, eval_set: str | None, category: str, stage: int
) -> dict[str, Any]:
    row = asdict(inst)
    row["turns"] = [list(t) for t in inst.turns]
    row.update(
        split=record.split,
        record_id=record.id,
        document_id=_document_id(record),
        use=use,
        eval_set=eval_set,
        category=category,
        stage=stage,
    )
    return row


def render_train(
    record: Any, view: DatasetView, mix: MixEntry, seed: int, decompose_fraction: float
) -> list[dict]:
    task = get_task(mix.task)
    rng = record_rng(seed, view.name, mix.task, record.id)
    opts = _accepted(task.render, view.render_options(mix.task))
    if "decompose" in inspect.signature(task.render).parameters and rng.random() < decompose_fraction:
        opts["decompose"] = True
    if opts.get("types") is not None or opts.get("relation_types") is not None:
        record = _restrict(record, opts)
    insts = task.render(record, record.lang, rng, **opts)
    return [
        _row(i, record, use="train", eval_set=None, category=mix.category, stage=mix.stage) for i in insts
    ]


def render_eval(record: Any, view: DatasetView, es: EvalSet, seed: int) -> list[dict]:
    task = get_task(es.task)
    rng = record_rng(seed, view.name, es.name, record.id)
    all_opts = view.render_options(es.task, eval_set=es)
    opts = _accepted(task.render, all_opts)
    restricted = _restrict(record, opts)
    insts = task.render(restricted, record.lang, rng, **opts)
    rows = [
        _row(i, record, use="eval", eval_set=es.name, category=TASK_CATEGORY.get(es.task, es.task), stage=0)
        for i in insts
    ]
    ref = reference(es.task, restricted, **all_opts)  # gold offsets/ids/options for the definitions
    if ref is not None:
        for row in rows:
            row["reference"] = ref
    return rows


def passthrough(record: Any, view: DatasetView) -> list[dict]:
    """A released Taiyi/Firefly conversation as one instance, exactly as given (no template)."""
    meta = getattr(record, "meta", {}) or {}
    turns = [(u.text, a.text) for u, a in zip(record.turns[0::2], record.turns[1::2], strict=False)]
    if not turns:
        return []
    category = meta.get("category", "MRD")
    task = CATEGORY_TASK.get(category, "dialogue")
    stage = 1 if task in {"ner", "re", "ee", "tc", "sts", "mt", "t2t", "t2s", "report", "norm"} else 2
    inst = Instance(
        id=f"{view.name}:{record.id}",
        dataset=meta.get("source_dataset") or view.name,
        task=task,
        lang=record.lang,
        template_id="released",
        prompt=turns[0][0],
        target=turns[0][1],
        input_text="",
        turns=turns if len(turns) > 1 else [],
        meta={"imported_from": view.name, "language": meta.get("language", "")},
    )
    return [_row(inst, record, use="train", eval_set=None, category=category, stage=stage)]
