"""The paper's published numbers (reference_scores.tsv, package data) mapped to our eval set names."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REFERENCE_FILE = Path(__file__).with_name("reference_scores.tsv")


@dataclass(frozen=True)
class RefRow:
    kind: str  # main | ablation | biored
    dataset: str  # our eval set name
    paper_name: str
    names: tuple[str, ...]  # other names of the set (catalog eval set, spellings runs use)
    entity_type: str
    aliases: tuple[str, ...]  # type names our data may use for ``entity_type`` (BioRED raw types)
    lang: str
    task: str
    metric: str
    metric_key: str  # f1 | accuracy: the key read from metrics.json
    definition: str  # scoring definition of the taiyi/chatgpt/P/R/ablation numbers (tasks/definitions.py)
    sota_definition: str  # that of the sota number; "other:<what>" = none of ours reproduces it
    taiyi: float | None  # all scores on the 0-100 scale
    chatgpt: float | None
    sota: float | None
    sota_model: str
    precision: float | None
    recall: float | None
    one_stage: float | None
    two_stage: float | None


def _num(value: str, scale: float) -> float | None:
    return round(float(value) * 100 / scale, 2) if value.strip() else None


def _definition(value: str) -> str:
    """A definition name of ours, empty (no number), or ``other:<what>`` (measured some other way)."""
    from taiyi_core.tasks.definitions import DEFINITIONS

    value = value.strip()
    if value and value not in DEFINITIONS and not value.startswith("other:"):
        raise ValueError(f"definition {value!r} is none of {', '.join(DEFINITIONS)} and not 'other:<what>'")
    return value


def comparable(definition: str) -> bool:
    """True when our metrics can hold a score under ``definition`` (one of our named definitions)."""
    return bool(definition) and not definition.startswith("other:")


@cache
def load_reference(path: Path = REFERENCE_FILE) -> tuple[RefRow, ...]:
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    rows = []
    for i, r in enumerate(csv.DictReader(lines, delimiter="\t"), 2):
        try:
            scale = float(r["scale"])
            rows.append(
                RefRow(
                    kind=r["kind"],
                    dataset=r["dataset"],
                    paper_name=r["paper_name"],
                    names=tuple(n for n in r["names"].split(",") if n),
                    entity_type=r["entity_type"],
                    aliases=tuple(a for a in r["aliases"].split(",") if a),
                    lang=r["lang"],
                    task=r["task"],
                    metric=r["metric"],
                    metric_key=r["metric_key"],
                    definition=_definition(r["definition"]),
                    sota_definition=_definition(r["sota_definition"]),
                    taiyi=_num(r["taiyi"], scale),
                    chatgpt=_num(r["chatgpt_gpt35"], scale),
                    sota=_num(r["sota"], scale),
                    sota_model=r["sota_model"],
                    precision=_num(r["precision"], scale),
                    recall=_num(r["recall"], scale),
                    one_stage=_num(r["one_stage"], scale),
                    two_stage=_num(r["two_stage"], scale),
                )
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"{path}: data row {i}: {exc}") from None
    return tuple(rows)


def main_rows() -> list[RefRow]:
    return [r for r in load_reference() if r.kind == "main"]


def biored_rows() -> list[RefRow]:
    return [r for r in load_reference() if r.kind == "biored"]


def ablation_rows() -> dict[str, RefRow]:
    return {r.dataset: r for r in load_reference() if r.kind == "ablation"}


def norm_name(name: str) -> str:
    """A set name as matched: case and punctuation ignored (``MedQA-USMLE`` = ``med_qa_usmle``)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


@cache
def _set_names() -> dict[str, str]:
    """Normalised name -> our set name, for every name a row lists (and the paper names of the 13)."""
    out: dict[str, str] = {}
    for r in load_reference():
        for n in (r.dataset, *r.names, *((r.paper_name,) if r.kind == "main" else ())):
            out.setdefault(norm_name(n), r.dataset)
    return out


def set_name(name: str) -> str:
    """Our name of a paper set given any of its names (``pubmed_qa`` -> ``pubmedqa``); others unchanged."""
    return _set_names().get(norm_name(name), name)


def find_main(name: str) -> RefRow | None:
    """The main-table row of a set named by its dataset name, paper name or any of its other names."""
    return {r.dataset: r for r in main_rows()}.get(set_name(name))
