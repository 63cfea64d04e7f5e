"""Named scoring definitions: which ones a task supports, what each needs, and the kit it matches.

One table (``DEFINITIONS``) says, for every definition, the tasks it applies to, the gold the eval
rows must carry for it (their ``reference``, written by the render step from the unified record) and
the official scorer it reproduces; ``applicable`` derives, for one eval set, the definitions that
apply to it from that table and its rows, so nothing else declares it. Documented with examples in
``taiyi_core/tasks/README.md`` ("Scoring definitions").

- ``string-set``: the task module's headline (per-instance sets of strings: (type, mention),
  (head, relation, tail), labels) - the generative evaluation of Taiyi / PromptCBLUE.
- ``multiset``, ``relaxed``, ``grounded``, ``undirected``: today's variants of the headline.
- ``mention``: NER strings grounded to every occurrence in the input (``grounding.ground``), scored on
  (instance, start, end, type) against the gold mention offsets (BC5CDR / NCBI-disease / CMeEE kits).
  RE with mention-level gold (DDI, ChemProt): each argument string grounded to every gold entity with
  that exact (whitespace-normalised) text, scored on (relation, head entity, tail entity).
- ``concept``: RE arguments mapped to concept ids through the document's own gold mention -> id
  dictionary (a composite mention maps to all its ids), scored on (relation, head id, tail id),
  unordered for the relation types the eval set declares undirected (BC5CDR CID kit, BioRED).
- ``alternatives``: ``mention`` where a prediction may also match one of the gold mention's
  alternative boundaries (BC2GM's ALTGENE; each gold mention matched at most once).
- ``accuracy``: single-label classification, mcqa, yes/no, sts (CBLUE KUAKE-QIC, PubMedQA, MedQA).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .base import Parsed
from .grounding import ground
from .metrics import normalize_ws, per_label_prf, prf

PRF = ("precision", "recall", "f1")
MISSING_TREATMENT = {
    "accuracy": "a missing, unparseable, empty or multi-label prediction is wrong (CBLUE accuracy)",
    "accuracy_first_label": (
        "a prediction with no label of the label set (missing, unparseable, empty, or only invalid "
        "labels) is replaced by the set's first label, and a multi-label one by its first valid label "
        "(PromptCBLUE's post-processing)"
    ),
}


@dataclass(frozen=True)
class Definition:
    name: str
    tasks: tuple[str, ...]
    needs: str  # what the eval set must carry: "" | "inputs" | "mentions" | "alternatives" | ...
    kit: str  # the official scorer or convention it reproduces
    summary: str


DEFINITIONS: dict[str, Definition] = {
    d.name: d
    for d in (
        Definition("string-set", ("ner", "re", "tc"), "", "Taiyi / PromptCBLUE generative evaluation",
                   "micro P/R/F1 over per-instance sets of strings (duplicates free)"),
        Definition("multiset", ("ner",), "", "-",
                   "string-set, but every predicted copy needs its own gold copy"),
        Definition("relaxed", ("ner", "re"), "", "-",
                   "string-set, case-, width-, whitespace- and punctuation-insensitive"),
        Definition("grounded", ("ner",), "inputs", "-",
                   "string-set after dropping predicted strings that do not occur in the input"),
        Definition("undirected", ("re",), "", "-", "string-set with head/tail order ignored"),
        Definition("mention", ("ner", "re"), "mentions",
                   "BC5CDR / NCBI-disease / CMeEE NER kits (doc, start, end, type); DDI / ChemProt "
                   "(doc, relation, argument mentions)",
                   "strings grounded to every occurrence (NER) or gold mention (RE), scored on offsets"),
        Definition("concept", ("re",), "concept_relations", "BC5CDR CID kit, BioRED (doc, relation, id pair)",
                   "arguments mapped to concept ids by the document's gold mention -> id dictionary"),
        Definition("alternatives", ("ner",), "alternatives", "BC2GM alt_eval (GENE.eval + ALTGENE.eval)",
                   "mention, also crediting a gold mention's alternative boundaries"),
        Definition("accuracy", ("tc", "mcqa", "yesno", "sts"), "single_label",
                   "CBLUE KUAKE-QIC/QTR/QQR, PubMedQA, MedQA accuracy",
                   "share of instances whose single predicted label is the gold one"),
    )
}  # fmt: skip


def main_key(scores: dict[str, Any]) -> str:
    return "accuracy" if "accuracy" in scores and "f1" not in scores else "f1"


def _carries(refs: Sequence[dict] | None, key: str) -> bool:
    return bool(refs) and all(isinstance(r, dict) and key in r for r in refs)  # type: ignore[union-attr]


def relation_level(refs: Sequence[dict] | None) -> str | None:
    """``mention`` or ``concept``: the level of a set's gold relations (None: no usable reference, or
    both levels mixed). A set without any relation is concept-level when its mentions carry ids."""
    if not _carries(refs, "mentions") or not _carries(refs, "relations"):
        return None
    levels = {rel["level"] for r in refs or () for rel in r["relations"]}
    if not levels:
        return "concept" if any(m.get("ids") for r in refs or () for m in r["mentions"]) else "mention"
    return levels.pop() if len(levels) == 1 else None


def applicable(
    task: str, golds: Sequence[Any], inputs: Sequence[str] | None, refs: Sequence[dict] | None
) -> list[str]:
    """The definitions that apply to one eval set of ``task``, in ``DEFINITIONS`` order."""
    offsets = inputs is not None and _carries(refs, "mentions")
    ok = {
        "": True,
        "inputs": inputs is not None,
        "mentions": offsets if task == "ner" else relation_level(refs) == "mention",
        "concept_relations": relation_level(refs) == "concept",
        "alternatives": offsets and any("alternatives" in m for r in refs or () for m in r["mentions"]),
        "single_label": task != "tc" or (bool(golds) and all(len(g) == 1 for g in golds)),
    }
    return [d.name for d in DEFINITIONS.values() if task in d.tasks and ok[d.needs]]


def _from_base(base: dict[str, Any], prefix: str) -> dict[str, Any]:
    out = {k: base[f"{prefix}{k}"] for k in PRF}
    if not prefix:
        out.update({k: base[k] for k in ("tp", "fp", "fn") if k in base})
    return out


# ---- NER: mention and alternatives -------------------------------------------------------------


def _pred_pairs(pred: Parsed) -> list[tuple[str, str]]:
    return [(t, m) for t, ms in (pred.value or {}).items() for m in ms]


def _gold_mentions(ref: dict) -> set[tuple[int, int, str]]:
    return {(int(m["start"]), int(m["end"]), normalize_ws(m["type"])) for m in ref["mentions"]}


def ner_mention(preds: Sequence[Parsed], inputs: Sequence[str], refs: Sequence[dict]) -> dict[str, Any]:
    """(instance, start, end, type) micro P/R/F1; a predicted string that never occurs is one FP."""
    golds: list[set] = []
    placed: list[set] = []
    tp = fp = fn = not_found = 0
    for pred, text, ref in zip(preds, inputs, refs, strict=True):
        g = _gold_mentions(ref)
        spans, missing = ground(text, _pred_pairs(pred))
        p = set(spans) | {(-1, m, t) for t, m in missing}  # a string not in the text: one FP of its type
        tp += len(g & p)
        fp += len(p - g)
        fn += len(g - p)
        not_found += len(missing)
        golds.append(g)
        placed.append(p)
    out: dict[str, Any] = prf(tp, fp, fn)
    out["not_in_text"] = not_found
    out["per_type"] = per_label_prf(golds, placed, label_of=lambda x: x[2])
    return out


def ner_alternatives(preds: Sequence[Parsed], inputs: Sequence[str], refs: Sequence[dict]) -> dict[str, Any]:
    """Like ``ner_mention``, but a placed span equal to any boundary of a gold mention matches it.

    Matching is one-to-one: a gold mention is matched by at most one placed span and a span matches at
    most one gold mention. Main boundaries are matched first (a nested gene keeps its own exact span
    even when it is another gene's alternative), then alternatives in order; other spans are FPs.
    """
    tp = fp = fn = 0
    for pred, text, ref in zip(preds, inputs, refs, strict=True):
        spans, missing = ground(text, _pred_pairs(pred))
        free = set(spans)
        fp += len(missing)
        golds = [(normalize_ws(m["type"]), (int(m["start"]), int(m["end"])), m.get("alternatives", []))
                 for m in ref["mentions"]]  # fmt: skip
        unmatched = []
        for etype, main, alts in golds:
            if (*main, etype) in free:
                free.discard((*main, etype))
                tp += 1
            else:
                unmatched.append((etype, alts))
        for etype, alts in unmatched:
            hit = next(((int(s), int(e), etype) for s, e in alts if (int(s), int(e), etype) in free), None)
            if hit is None:
                fn += 1
            else:
                tp += 1
                free.discard(hit)
        fp += len(free)
    return prf(tp, fp, fn)


# ---- RE: mention-level and concept-level -------------------------------------------------------


def _pred_triples(pred: Parsed) -> set[tuple[str, str, str]]:
    value = pred.value or {}
    return {(normalize_ws(h), normalize_ws(r), normalize_ws(t)) for r, ps in value.items() for h, t in ps}


def _key(rel: str, a: str, b: str, undirected: set[str]) -> tuple:
    return (rel, frozenset((a, b))) if rel in undirected else (rel, a, b)


def _re_scores(
    preds: Sequence[Parsed], refs: Sequence[dict], lookup: Callable[[dict], dict[str, set[str]]]
) -> dict[str, Any]:
    tp = fp = fn = unmapped = 0
    for pred, ref in zip(preds, refs, strict=True):
        undirected = {normalize_ws(t) for t in ref.get("undirected", [])}
        table = lookup(ref)
        gold = {_key(normalize_ws(r["type"]), r["head"], r["tail"], undirected) for r in ref["relations"]}
        got: set[tuple] = set()
        for h, rel, t in _pred_triples(pred):
            heads, tails = table.get(h, set()), table.get(t, set())
            if not heads or not tails:
                unmapped += 1
                continue
            got |= {_key(rel, a, b, undirected) for a in heads for b in tails if a != b}
        tp += len(gold & got)
        fp += len(got - gold)
        fn += len(gold - got)
    fp += unmapped
    out: dict[str, Any] = prf(tp, fp, fn)
    out["unmapped_triples"] = unmapped
    return out


def concept_table(ref: dict) -> dict[str, set[str]]:
    """The document's gold mention string -> concept ids (union over all its mentions)."""
    table: dict[str, set[str]] = {}
    for m in ref["mentions"]:
        if m.get("ids"):
            table.setdefault(normalize_ws(m["text"]), set()).update(m["ids"])
    return table


def mention_table(ref: dict) -> dict[str, set[str]]:
    """The document's gold mention string -> ids of the gold entities with that text."""
    table: dict[str, set[str]] = {}
    for m in ref["mentions"]:
        table.setdefault(normalize_ws(m["text"]), set()).add(m["id"])
    return table


def re_concept(preds: Sequence[Parsed], refs: Sequence[dict]) -> dict[str, Any]:
    """(relation, head id, tail id) micro P/R/F1; a triple with an argument outside the dictionary is
    one FP (``unmapped_triples``); an argument with several ids contributes every id pair."""
    return _re_scores(preds, refs, concept_table)


def re_mention(preds: Sequence[Parsed], refs: Sequence[dict]) -> dict[str, Any]:
    """(relation, head entity, tail entity) micro P/R/F1; arguments grounded to every gold entity with
    that exact text (an argument matching none makes the triple one FP)."""
    return _re_scores(preds, refs, mention_table)


# ---- classification accuracy ------------------------------------------------------------------


def tc_accuracy(golds: Sequence[list[str]], preds: Sequence[Parsed], refs: Sequence[dict] | None) -> dict:
    """Accuracy two ways (see ``MISSING_TREATMENT``); the label set comes from each row's reference."""
    allowed_all = {normalize_ws(g[0]) for g in golds}
    strict = first = 0
    for i, (g, pred) in enumerate(zip(golds, preds, strict=True)):
        gold = normalize_ws(g[0])
        labels = [normalize_ws(x) for x in (pred.value or [])]
        strict += labels == [gold]
        options = [normalize_ws(x) for x in ((refs[i] if refs else {}) or {}).get("label_set", [])]
        valid = [x for x in labels if x in (options or allowed_all)]
        chosen = valid[0] if valid else (options[0] if options else None)
        first += chosen == gold
    n = len(golds)
    return {
        "accuracy": strict / n if n else 0.0,
        "accuracy_first_label": first / n if n else 0.0,
        "missing_treatment": MISSING_TREATMENT,
    }


def compute(
    task: str,
    name: str,
    base: dict[str, Any],
    golds: Sequence[Any],
    preds: Sequence[Parsed],
    inputs: Sequence[str] | None,
    refs: Sequence[dict] | None,
) -> dict[str, Any]:
    """One definition's scores (``base`` is the task module's own score dict)."""
    if name == "string-set":
        out = _from_base(base, "")
    elif name in ("multiset", "relaxed", "grounded", "undirected"):
        out = _from_base(base, f"{name}_")
    elif name == "mention" and task == "ner":
        out = ner_mention(preds, inputs or (), refs or ())
    elif name == "mention":
        out = re_mention(preds, refs or ())
    elif name == "concept":
        out = re_concept(preds, refs or ())
    elif name == "alternatives":
        out = ner_alternatives(preds, inputs or (), refs or ())
    elif name == "accuracy" and task == "tc":
        out = tc_accuracy(golds, preds, refs)
    elif name == "accuracy":
        out = {"accuracy": base["accuracy"]}
    else:
        raise ValueError(f"definition {name!r} does not apply to task {task!r}")
    out["main"] = main_key(out)
    return out


def score_all(
    task: str,
    base: dict[str, Any],
    golds: Sequence[Any],
    preds: Sequence[Parsed],
    inputs: Sequence[str] | None,
    refs: Sequence[dict] | None,
) -> dict[str, dict[str, Any]]:
    """Every applicable definition's scores, keyed by definition name."""
    names = applicable(task, golds, inputs, refs)
    return {n: compute(task, n, base, golds, preds, inputs, refs) for n in names}
