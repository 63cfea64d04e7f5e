"""What the data steps need from the catalog, in one place.

The catalog (taiyi_core.catalog) is the registry; this module reads its entries into small frozen
views (splits, raw globs, mix entries, eval sets, render options) so that the rest of the data code
does not depend on how the catalog spells things.
"""

from __future__ import annotations

import glob
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from taiyi_core.catalog.download import FETCH_RECORD
from taiyi_core.data.inventory import Inventory

TRAIN_ROLES = ("train", "both")
EVAL_ROLES = ("eval", "both")

# eval-set / mix keys of the catalog -> keyword arguments of the task's render()
_RENDER_KEYS = {
    "entity_types": "types",
    "type_map": "type_names",
    "relation_types": "relation_types",
    "relation_map": "relation_names",
    "undirected_relations": "undirected_relations",  # read by tasks/references.py, not by render()
    "labels": "labels",
    "label_map": "label_names",
}
# what the dataset's inventory (data/inventory.py) supplies per task when the catalog is silent
_INVENTORY_KEYS = {
    "tc": {"labels": "labels"},
    "sts": {"labels": "labels"},
    "ner": {"types": "entity_types"},
    "re": {"relation_types": "relation_types"},
    "ee": {"event_types": "event_types", "role_types": "role_types"},
}


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    value = getattr(obj, key, default)
    return default if value is None else value


def _plain(obj: Any) -> Any:
    """A JSON-able copy of a catalog object (pydantic model, dataclass or dict)."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if hasattr(obj, "__dict__"):
        return {k: _plain(v) for k, v in vars(obj).items() if not k.startswith("_")}
    return obj


@dataclass(frozen=True)
class MixEntry:
    task: str
    category: str
    count: int | None
    stage: int
    cap: int | None
    key: str | None
    render: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EvalSet:
    name: str
    dataset: str
    task: str
    split: str
    suites: tuple[str, ...]
    render: dict[str, Any] = field(default_factory=dict)
    paper_name: str = ""


@dataclass(frozen=True)
class DatasetView:
    name: str
    language: str
    tasks: tuple[str, ...]
    role: str
    reader: str
    reader_options: dict[str, Any]
    files: dict[str, tuple[str, ...]]  # split -> globs relative to <raw_dir>/<name>/
    mix: tuple[MixEntry, ...]
    eval_sets: tuple[EvalSet, ...]
    access: str
    url: str
    licence: str
    prepare: str
    raw: dict[str, Any]  # the catalog entry as JSON (for stamps)
    split_lists: dict[str, str] = field(default_factory=dict)  # split -> glob of its document-id list

    def split_list_files(self, raw_root: Path, split: str) -> list[Path]:
        """The id-list file(s) of a split (empty when the split is not defined by an id list)."""
        pattern = self.split_lists.get(split)
        if pattern is None:
            return []
        return [Path(p) for p in sorted(glob.glob(str(self.raw_dir(raw_root) / pattern), recursive=True))]

    def split_ids(self, raw_root: Path, split: str) -> set[str] | None:
        """Document ids listed for ``split``, or None when every document read belongs to it."""
        if split not in self.split_lists:
            return None
        files = self.split_list_files(raw_root, split)
        if not files:
            raise FileNotFoundError(
                f"dataset {self.name}: split {split!r} is defined by the id list "
                f"{self.split_lists[split]!r}, which matches no file under {self.raw_dir(raw_root)}"
            )
        lines = (ln.strip() for f in files for ln in f.read_text(encoding="utf-8-sig").splitlines())
        return {ln for ln in lines if ln}

    @property
    def splits(self) -> list[str]:
        return list(self.files)

    @property
    def eval_splits(self) -> set[str]:
        return {e.split for e in self.eval_sets}

    @property
    def is_train(self) -> bool:
        return self.role in TRAIN_ROLES and bool(self.mix)

    def train_splits(self) -> list[str]:
        """Splits rendered for training: ``train`` when the dataset has one, else every split not
        held out for evaluation (e.g. COVID_Similarity ships only ``test`` and trains on it)."""
        if not self.is_train:
            return []
        if "train" in self.files:
            return ["train"]
        return [s for s in self.files if s not in self.eval_splits]

    def raw_dir(self, raw_root: Path) -> Path:
        return raw_root / self.name

    def split_files(self, raw_root: Path, split: str) -> list[Path]:
        """Files matching the split's globs (union, sorted, de-duplicated)."""
        base = self.raw_dir(raw_root)
        found: dict[str, Path] = {}
        for pattern in self.files.get(split, ()):
            # "a|b": alternatives, the first that matches wins (e.g. the release name, else any *.jsonl)
            for alternative in pattern.split("|"):
                hits = sorted(h for h in glob.glob(str(base / alternative), recursive=True)
                              if Path(h).name != FETCH_RECORD)  # what `taiyi data fetch` recorded, not data
                for hit in hits:
                    found.setdefault(str(Path(hit).resolve()), Path(hit))
                if hits:
                    break
        return [found[k] for k in sorted(found)]

    def present_splits(self, raw_root: Path) -> dict[str, list[Path]]:
        return {s: fs for s in self.files if (fs := self.split_files(raw_root, s))}

    def download_hint(self) -> str:
        parts = [f"access: {self.access or 'unknown'}"]
        download = self.raw.get("download") or {}
        if self.access == "public" and (download.get("files") or download.get("hub")):
            parts.append(f"fetch it: taiyi data fetch {self.name}")
        elif self.url:
            parts.append(f"get it from {self.url}, then: taiyi data add {self.name} PATH")
        if self.licence:
            parts.append(f"licence: {self.licence}")
        if self.prepare:
            parts.append(f"then: {self.prepare}")
        globs = "; ".join(f"{s}: {', '.join(g)}" for s, g in self.files.items())
        parts.append(f"place files under data/raw/{self.name}/ ({globs})")
        return " | ".join(parts)

    def render_options(
        self, task: str, *, eval_set: EvalSet | None = None, inventory: Inventory | None = None
    ) -> dict[str, Any]:
        """Keyword arguments for ``get_task(task).render``, never derived from one record.

        Layers, later ones winning: the dataset's inventory (every label/type of every split read),
        the catalog entry's ``labels``/``label_map``, then the view's own catalog options (an eval
        set's, else the mix entry's, else the union of the dataset's eval sets for that task so a
        training prompt lists every evaluated type). Entity types shown through a many-to-one
        ``type_map`` are expanded to ALL their raw types (``raw_types``)."""
        opts: dict[str, Any] = {}
        if inventory is not None:
            for kw, kind in _INVENTORY_KEYS.get(task, {}).items():
                opts[kw] = inventory.names(kind)
        catalog_labels, label_map = self.raw.get("labels") or [], self.raw.get("label_map") or {}
        if task in ("tc", "sts"):
            if catalog_labels:
                opts["labels"] = list(catalog_labels)
            if label_map:
                opts["label_names"] = dict(label_map)
        opts.update(self._catalog_options(task, eval_set))
        return expand_raw_types(opts)

    def _catalog_options(self, task: str, eval_set: EvalSet | None) -> dict[str, Any]:
        if eval_set is not None:
            return dict(eval_set.render)
        for m in self.mix:
            if m.task == task and m.render:
                return dict(m.render)
        merged: dict[str, Any] = {}
        for e in self.eval_sets:
            if e.task != task:
                continue
            for k, v in e.render.items():
                if isinstance(v, list):
                    merged[k] = list(dict.fromkeys([*merged.get(k, []), *v]))
                elif isinstance(v, dict):
                    merged[k] = {**merged.get(k, {}), **v}
                else:
                    merged.setdefault(k, v)
        return merged

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.raw, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _render_opts(spec: dict[str, Any]) -> dict[str, Any]:
    out = dict(spec.get("render") or {})
    for key, kw in _RENDER_KEYS.items():
        if spec.get(key):  # an empty list/map in the catalog means "not stated"
            out.setdefault(kw, spec[key])
    return out


def raw_types_of(shown: list[str], names: dict[str, str]) -> list[str]:
    """Every raw type a list of shown types stands for: each type itself and ALL raw types a
    (many-to-one) map sends to it — NCBI-disease's four classes, CHEMDNER's eight, not one of them."""
    out: list[str] = []
    for t in shown:
        out += [raw for raw, s in names.items() if s == t]
        out.append(t)
    return list(dict.fromkeys(out))


def expand_raw_types(opts: dict[str, Any]) -> dict[str, Any]:
    """Records carry raw types, prompts show mapped ones: ``types`` becomes the raw types to ask for
    (the task maps and de-duplicates them for display); the shown list stays in ``shown_types``."""
    names, types = opts.get("type_names"), opts.get("types")
    if isinstance(names, dict) and names and isinstance(types, list):
        opts = {**opts, "types": raw_types_of(types, names), "shown_types": list(types)}
    return opts


def view(entry: Any) -> DatasetView:
    raw = _plain(entry)
    name = raw["name"]
    files = {str(s): tuple([g] if isinstance(g, str) else g) for s, g in (raw.get("files") or {}).items()}
    mix = tuple(
        MixEntry(
            task=m["task"],
            category=m.get("category") or m["task"].upper(),
            count=m.get("count"),
            stage=int(m.get("stage") or 1),
            cap=m.get("cap"),
            key=m.get("key"),
            render=_render_opts(m),
        )
        for m in raw.get("mix") or []
    )
    evals = tuple(
        EvalSet(
            name=e["name"],
            dataset=name,
            task=e["task"],
            split=e["split"],
            suites=tuple(e.get("suites") or ["main"]),
            render=_render_opts(e),
            paper_name=e.get("paper_name", ""),
        )
        for e in raw.get("eval_sets") or []
    )
    prepare = raw.get("prepare") or ""
    return DatasetView(
        name=name,
        language=raw.get("language", "en"),
        tasks=tuple(raw.get("tasks") or ()),
        role=raw.get("role") or "none",
        reader=raw.get("reader") or "",
        reader_options=dict(raw.get("reader_options") or {}),
        files=files,
        mix=mix,
        eval_sets=evals,
        access=str(raw.get("access") or ""),
        url=str(raw.get("url") or ""),
        licence=str(raw.get("licence") or ""),
        prepare=prepare if isinstance(prepare, str) else json.dumps(prepare),
        raw=raw,
        split_lists=dict(raw.get("split_lists") or {}),
    )


def load_views() -> dict[str, DatasetView]:
    """Every catalog entry, by name."""
    from taiyi_core.catalog import load_catalog

    return {v.name: v for v in (view(e) for e in load_catalog())}
