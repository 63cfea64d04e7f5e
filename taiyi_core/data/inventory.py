"""A dataset's inventory: every label, entity type, relation type and event type it uses.

Prompts list options (labels, entity types, relation types) that must not depend on the record
being rendered: a KUAKE-QIC prompt offering only its gold label gives the answer away, an NER prompt
listing only the types the record contains tells the model which types occur. The catalog states
them where it can (``labels``, eval sets' ``entity_types``/``relation_types``/``labels``); everything
else comes from this inventory, counted once over every record of every split the data task reads
(all shards read the whole dataset, so they agree) and recorded in the run as
``data/unified/<dataset>/inventory.json``.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taiyi_core.atomic import write_json

KINDS = ("labels", "entity_types", "relation_types", "event_types", "role_types")


@dataclass
class Inventory:
    """Counts per kind (records of the text/pairs families give labels; kb records the rest).

    ``declared_labels`` keeps the reader's own ``label_set`` (in its order) when records carry one.
    """

    records: int = 0
    counts: dict[str, Counter] = field(default_factory=lambda: {k: Counter() for k in KINDS})
    declared_labels: list[str] = field(default_factory=list)

    def add(self, record: Any) -> None:
        self.records += 1
        c = self.counts
        family = getattr(record, "family", None)
        if family == "text":
            c["labels"].update(record.labels)
        elif family == "pairs":
            c["labels"][record.label] += 1
        elif family == "kb":
            c["entity_types"].update(e.type for e in record.entities)
            c["relation_types"].update(r.type for r in record.relations)
            c["event_types"].update(ev.type for ev in record.events)
            c["role_types"].update(a.role for ev in record.events for a in ev.arguments)
        declared = getattr(record, "label_set", None)
        if declared and not self.declared_labels:
            self.declared_labels = list(declared)

    def names(self, kind: str) -> list[str]:
        """The values of ``kind``: the reader's declared label set first (labels), else sorted."""
        seen = sorted(self.counts[kind])
        if kind == "labels" and self.declared_labels:
            return list(dict.fromkeys([*self.declared_labels, *seen]))
        return seen

    def to_json(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "declared_labels": self.declared_labels,
            **{k: dict(sorted(self.counts[k].items())) for k in KINDS},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Inventory:
        inv = cls(records=int(data.get("records", 0)), declared_labels=list(data.get("declared_labels", [])))
        for k in KINDS:
            inv.counts[k] = Counter(data.get(k) or {})
        return inv


def path(unified_dir: Path, dataset: str) -> Path:
    return unified_dir / dataset / "inventory.json"


def write(unified_dir: Path, dataset: str, inv: Inventory) -> Path:
    p = path(unified_dir, dataset)
    write_json(p, inv.to_json())
    return p


def read(unified_dir: Path, dataset: str) -> Inventory | None:
    p = path(unified_dir, dataset)
    if not p.is_file():
        return None
    return Inventory.from_json(json.loads(p.read_text(encoding="utf-8")))
