"""Unified record -> instruction rows, with the task modules (seeded per record, so shards agree).

A dataset renders into VIEWS: one per mix entry on its training splits (``train:<task>``) and one
per eval set on that set's split (``eval:<name>``). Each view's options (labels, types, relation
types) are fixed once per dataset from the catalog and the dataset's inventory (catalog_view.
render_options), never from the record being rendered. Training views decompose an extraction
record into one request per type with probability ``decompose_fraction`` (Taiyi's task
decomposition); eval views never do, as the paper evaluates all types at once. Released
Firefly/Taiyi conversations (reader ``firefly_jsonl``) pass through without templates.
"""

from __future__ import annotations

import inspect
import random
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from taiyi_core.data.catalog_view import DatasetView, EvalSet, MixEntry
from taiyi_core.data.inventory import Inventory
from taiyi_core.tasks import get_task
from taiyi_core.tasks.base import Instance
from taiyi_core.tasks.references import reference
from taiyi_core.tasks.registry import CATEGORY_TASK, STAGE2_TASKS, TASK_CATEGORY


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


@dataclass(frozen=True)
class RenderView:
    """One way a dataset is rendered: a mix entry (training) or an eval set, with its fixed options."""

    name: str  # train:<task> or eval:<eval set>
    task: str
    use: str  # train | eval
    options: dict[str, Any]  # what render_options gave (incl. shown_types), also read by the audit
    mix: MixEntry | None = None
    eval_set: EvalSet | None = None
    unmapped: tuple[str, ...] = field(default_factory=tuple)  # raw types/labels the view cannot show

    @property
    def what(self) -> str:
        """The name seeding the record's generator (the task for training, the eval set's name)."""
        return self.mix.task if self.mix is not None else self.eval_set.name  # type: ignore[union-attr]


def train_view(view: DatasetView, mix: MixEntry, inventory: Inventory | None = None) -> RenderView:
    opts = view.render_options(mix.task, inventory=inventory)
    return RenderView(f"train:{mix.task}", mix.task, "train", opts, mix=mix,
                      unmapped=unmapped(mix.task, opts, inventory))  # fmt: skip


def eval_view(view: DatasetView, es: EvalSet, inventory: Inventory | None = None) -> RenderView:
    opts = view.render_options(es.task, eval_set=es, inventory=inventory)
    return RenderView(f"eval:{es.name}", es.task, "eval", opts, eval_set=es,
                      unmapped=unmapped(es.task, opts, inventory))  # fmt: skip


def plan_views(view: DatasetView, inventory: Inventory | None, eval_suites: list[str]) -> list[RenderView]:
    """The dataset's views and their options, fixed once for every record and split."""
    out = [train_view(view, mix, inventory) for mix in view.mix]
    out += [eval_view(view, es, inventory) for es in view.eval_sets if set(es.suites) & set(eval_suites)]
    return _shown_nowhere(out, inventory)


_TYPE_KEYS = {"ner": ("entity_types", "types", "type_names"), "re": ("relation_types", "relation_types",
              "relation_names")}  # fmt: skip


def _shown_nowhere(views: list[RenderView], inventory: Inventory | None) -> list[RenderView]:
    """A raw entity/relation type that NO view of its task lists (BC5CDR's views list Chemical and
    Disease: a stray "Gene" would vanish from every target) is unmapped in the task's training views
    (its eval views when it has none), so the audit goes red on it instead of losing it silently."""
    if inventory is None:
        return views
    for task, (kind, list_key, map_key) in _TYPE_KEYS.items():
        mine = [v for v in views if v.task == task]
        if not mine or any(not v.options.get(list_key) for v in mine):  # a view showing every type
            continue
        shown = {t for v in mine for t in [*v.options[list_key], *(v.options.get(map_key) or {})]}
        nowhere = tuple(t for t in inventory.names(kind) if t not in shown)
        if nowhere:
            blamed = [v for v in mine if v.use == "train"] or mine
            views = [replace(v, unmapped=tuple(dict.fromkeys([*v.unmapped, *nowhere]))) if v in blamed else v
                     for v in views]  # fmt: skip
    return views


def unmapped(task: str, opts: dict[str, Any], inventory: Inventory | None) -> tuple[str, ...]:
    """Raw labels/types of the dataset that a view's options cannot show (their records would
    quarantine or their mentions vanish): every label for TC/STS; for NER/RE, the types under an
    explicit map (a view that lists types without a map selects them on purpose, e.g. BC5CDR-Chem)."""
    if inventory is None:
        return ()
    if task in ("tc", "sts"):
        names = opts.get("label_names") or {}
        shown = {names.get(x, x) for x in opts.get("labels") or []}
        return tuple(x for x in inventory.names("labels") if names.get(x, x) not in shown)
    if task in _TYPE_KEYS and opts.get(_TYPE_KEYS[task][2]):
        kind, list_key, map_key = _TYPE_KEYS[task]
        known = set(opts.get(list_key) or []) | set(opts[map_key])
        return tuple(x for x in inventory.names(kind) if x not in known)
    return ()


def render_view(
    record: Any, dataset: DatasetView, rv: RenderView, seed: int, decompose_fraction: float = 0.0
) -> list[dict]:
    """Instruction rows of one record in one view (RenderError when it cannot be rendered there)."""
    task = get_task(rv.task)
    rng = record_rng(seed, dataset.name, rv.what, record.id)
    opts = _accepted(task.render, rv.options)
    decomposable = "decompose" in inspect.signature(task.render).parameters
    if rv.use == "train" and decomposable and rng.random() < decompose_fraction:
        opts["decompose"] = True
    restricted = _restrict(record, opts)
    insts = task.render(restricted, record.lang, rng, **opts)
    if rv.task == "re":  # a negative sentence answers "no relation": kept, capped by the mix
        for i in insts:
            i.meta["negative"] = i.target == task.NO_RELATION[i.lang]
    if rv.mix is not None:
        return [_row(i, record, use="train", eval_set=None, category=rv.mix.category, stage=rv.mix.stage)
                for i in insts]  # fmt: skip
    es = rv.eval_set
    assert es is not None
    category = TASK_CATEGORY.get(es.task, es.task)
    rows = [_row(i, record, use="eval", eval_set=es.name, category=category, stage=0) for i in insts]
    ref = reference(es.task, restricted, **rv.options)  # gold offsets/ids/options for the definitions
    if ref is not None:
        for row in rows:
            row["reference"] = ref
    return rows


def render_train(
    record: Any, view: DatasetView, mix: MixEntry, seed: int, decompose_fraction: float,
    inventory: Inventory | None = None,
) -> list[dict]:  # fmt: skip
    return render_view(record, view, train_view(view, mix, inventory), seed, decompose_fraction)


def render_eval(
    record: Any, view: DatasetView, es: EvalSet, seed: int, inventory: Inventory | None = None
) -> list[dict]:
    return render_view(record, view, eval_view(view, es, inventory), seed)


def passthrough(record: Any, view: DatasetView) -> list[dict]:
    """A released Taiyi/Firefly conversation as one instance, exactly as given (no template)."""
    meta = getattr(record, "meta", {}) or {}
    turns = [(u.text, a.text) for u, a in zip(record.turns[0::2], record.turns[1::2], strict=False)]
    if not turns:
        return []
    category = meta.get("category", "MRD")
    task = CATEGORY_TASK.get(category, "dialogue")
    stage = 2 if task in STAGE2_TASKS else 1
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
