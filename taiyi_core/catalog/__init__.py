"""The dataset catalog: Taiyi's 140 datasets (+ the extra mix sources) as YAML data, validated here.

``load_catalog()`` reads ``datasets_zh.yaml``, ``datasets_en.yaml``, ``extra_sources.yaml`` and
``benchmark_sets.yaml`` (BLURB sets outside Taiyi's table) beside this file (field reference: README.md
in this folder). Reader and task names are checked against their registries (``READERS`` in
taiyi_core/formats/__init__.py, taiyi_core/tasks/registry.py).
Any invalid entry raises :class:`CatalogError` naming the YAML file, the dataset and the key.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from taiyi_core.catalog.download import Download
from taiyi_core.formats import READERS
from taiyi_core.tasks.registry import STAGE2_TASKS, TASK_NAMES

CATALOG_DIR = Path(__file__).resolve().parent
# folders of user catalog entries; a preset's data.catalog adds to it (config.load_preset)
CATALOG_PATH_ENV = "TAIYI_CATALOG_PATH"
DEFAULT_FILES = ("datasets_zh.yaml", "datasets_en.yaml", "extra_sources.yaml", "benchmark_sets.yaml")

# Reader and task names come from their registries (formats/__init__.py READERS, tasks/registry.py);
# STAGE2_TASKS (tasks whose data enters only in stage 2) too.
READER_NAMES: tuple[str, ...] = tuple(READERS)
# Task codes as printed in Taiyi's dataset table (plus COT for the chain-of-thought sources).
TASK_CODES = (
    "NER", "NER/NEN", "RE", "CRE", "EE", "COREF", "TC", "TP-ss", "TP-te", "QA-sqa", "QA-cqa",
    "QA-multiple_choice", "QA-yesno", "MRD", "MT", "TT-ds", "TT-ts", "COT",
)
# Category labels of the repo's final_instruction_data.md (+ "general" for the unnamed general dialogue).
MIX_CATEGORIES = (
    "NER", "RE", "EE", "TC", "MT-zh2en", "QA_choice", "QA_sqa", "QA_cqa", "MRD", "TP-ss", "TT-ds", "ADD",
    "COT", "general",
)

if TYPE_CHECKING:  # the names are data (the registries), so the checker sees plain strings
    Task = str
    ReaderName = str
else:
    Task = Literal[TASK_NAMES]
    ReaderName = Literal[READER_NAMES]
Language = Literal["en", "zh", "multi"]
Role = Literal["train", "eval", "both", "none"]
Suite = Literal["main", "ablation", "zero_shot"]


class CatalogError(ValueError):
    """A catalog file or entry is invalid, or a name is unknown."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MixEntry(_Model):
    """What one dataset contributed to Taiyi's final instruction mix for one task."""

    task: Task
    category: str  # the repo's label in final_instruction_data.md (NER, QA_choice, ADD, ...)
    count: int = Field(ge=0)
    stage: Literal[1, 2]  # the first stage that trains on it; stage 2 re-uses all stage-1 data
    cap: int | None = Field(default=None, gt=0)  # per-dataset sampling cap visible in the counts
    key: str | None = None  # source key in the repo's table when it differs from the dataset name
    lang: Literal["en", "zh", "zh-en", "multi"] | None = None  # language the recipe counts it under
    removed_2023_12: bool = False  # n2c2 rows deleted from the public list on 2023-12-07
    # RE only: most "no relation" answers allowed, as a share of the dataset's RE training rows
    # (None: data.options.negative_ratio, documented in taiyi_core/data/options.py)
    negative_ratio: float | None = Field(default=None, ge=0, le=1)

    @field_validator("category")
    @classmethod
    def _known_category(cls, v: str) -> str:
        if v not in MIX_CATEGORIES:
            raise ValueError(f"unknown mix category {v!r} (known: {', '.join(MIX_CATEGORIES)})")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> MixEntry:
        expected = 2 if self.task in STAGE2_TASKS else 1
        if self.stage != expected:
            raise ValueError(f"stage {self.stage} contradicts task {self.task!r}: QA, dialogue and CoT data "
                             f"enter in stage 2, all other tasks in stage 1 (expected stage {expected})")
        if self.cap is not None and self.count > self.cap:
            raise ValueError(f"count {self.count} exceeds cap {self.cap}")
        return self


class EvalSet(_Model):
    """One evaluation view of a dataset (a dataset may have several, e.g. BC5CDR-Chem and -Dise)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    paper_name: str  # the set's name in Taiyi's results (reference/taiyi_results.tsv, column test_set)
    task: Task
    split: str
    suites: list[Suite] = Field(min_length=1)
    entity_types: list[str] = Field(default_factory=list)
    relation_types: list[str] = Field(default_factory=list)
    # relation types whose head/tail order the dataset's own scorer ignores (DDI, BioRED); the mention
    # and concept scoring definitions then compare unordered pairs (taiyi_core/tasks/definitions.py)
    undirected_relations: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    type_map: dict[str, str] = Field(default_factory=dict)  # raw type in the source -> eval entity type
    notes: str | None = None
    # filled in from the owning dataset by the loader; not written in YAML
    dataset: str | None = None
    language: Language | None = None

    @model_validator(mode="after")
    def _type_map_targets(self) -> EvalSet:
        unknown = sorted(set(self.type_map.values()) - set(self.entity_types))
        if unknown:
            raise ValueError(f"type_map maps to {unknown}, which are not in entity_types")
        return self


_SIZE_ITEM = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*:\s*([0-9][0-9,]*)\s*$")


def parse_sizes(text: str) -> dict[str, int]:
    """Parse Taiyi's "Train:1,587; Dev:384" into {"train": 1587, "dev": 384} (commas are separators)."""
    sizes: dict[str, int] = {}
    for item in text.split(";"):
        if not item.strip():
            continue
        m = _SIZE_ITEM.match(item)
        if m is None:
            raise ValueError(f"cannot parse size item {item.strip()!r} (expected 'Split:12,345')")
        key = m.group(1).lower()
        if key in sizes:
            raise ValueError(f"split {key!r} listed twice")
        sizes[key] = int(m.group(2).replace(",", ""))
    if not sizes:
        raise ValueError("no sizes listed")
    return sizes


class Dataset(_Model):
    """One catalog entry: where the data comes from, how to read it, and what Taiyi did with it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    row: str | None = Field(default=None, pattern=r"^(en|zh)-[0-9]+$")  # row id in Taiyi's table
    title: str
    language: Language
    task_codes: list[str] = Field(min_length=1)
    tasks: list[Task] = Field(min_length=1)
    sizes: str | None = None  # split sizes verbatim as listed by Taiyi
    format: str  # the recipe's probable source format
    url: str
    licence: str
    access: Literal["public", "registration", "dua"]
    reader: ReaderName
    reader_options: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, list[str]] = Field(min_length=1)  # split -> required globs; "a|b" = alternatives
    # split -> glob of a file listing that split's document ids (PMIDs), one per line: for releases that
    # ship one corpus plus id lists (HoC, NLM-Gene, MedMentions); the data step keeps listed documents only
    split_lists: dict[str, str] = Field(default_factory=dict)
    prepare: str | None = None  # one-off conversion needed before the reader can read the release
    # the dataset's label inventory (TC/STS options, in this order) and raw label -> shown label; every
    # view renders its options from these (or from the inventory the data step records), never a record
    labels: list[str] = Field(default_factory=list)
    label_map: dict[str, str] = Field(default_factory=dict)
    download: Download | None = None  # pinned sources for `taiyi data fetch` (catalog/download.py)
    duplicate_of: str | None = None
    role: Role
    mix: list[MixEntry] = Field(default_factory=list)
    eval_sets: list[EvalSet] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    # whether a real release (a cut of it under ../shared/samples/) was read through this entry by
    # tests/catalog/test_real_samples.py: true names the sample (``verified_with``), false says ``why``
    verified: bool | None = None
    verified_with: str | None = None  # sample path relative to shared/samples/
    why: str | None = None  # why the entry could not be verified on a real release here

    @field_validator("task_codes")
    @classmethod
    def _known_codes(cls, v: list[str]) -> list[str]:
        unknown = [c for c in v if c not in TASK_CODES]
        if unknown:
            raise ValueError(f"unknown task code(s) {unknown} (known: {', '.join(TASK_CODES)})")
        return v

    @field_validator("files")
    @classmethod
    def _globs(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for split, patterns in v.items():
            if not patterns:
                raise ValueError(f"files.{split} lists no glob")
            for p in patterns:
                alternatives = p.split("|")
                if any(not a.strip() or a.startswith("/") or ".." in a.split("/") for a in alternatives):
                    raise ValueError(f"files.{split}: {p!r} must be relative globs inside data/raw/<name>/")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Dataset:
        if self.verified is True and not self.verified_with:
            raise ValueError("verified: true needs verified_with (the sample path that verified it)")
        if self.verified is False and not (self.why or "").strip():
            raise ValueError("verified: false needs why (what could not be obtained or read)")
        if self.verified is None and (self.verified_with or self.why):
            raise ValueError("verified_with / why given without verified: true / false")
        for split, pattern in self.split_lists.items():
            if split not in self.files:
                raise ValueError(f"split_lists.{split}: no files entry for split {split!r}")
            if not pattern.strip() or pattern.startswith("/") or ".." in pattern.split("/"):
                raise ValueError(f"split_lists.{split}: {pattern!r} must be a relative glob inside "
                                 "data/raw/<name>/")
        if self.sizes is not None:
            parse_sizes(self.sizes)
        if self.download is not None and self.download.fetchable and self.access != "public":
            raise ValueError(f"download: access is {self.access!r}, so nothing may be fetched unattended; "
                             "give 'by_hand' instead of pinned sources")
        if self.row is not None and self.language != self.row.split("-")[0]:
            raise ValueError(f"row {self.row!r} does not match language {self.language!r}")
        for i, m in enumerate(self.mix):
            if m.task not in self.tasks:
                raise ValueError(f"mix[{i}].task {m.task!r} is not among tasks {self.tasks}")
        has_mix, has_eval = bool(self.mix), bool(self.eval_sets)
        expected_role = {(True, True): "both", (True, False): "train", (False, True): "eval",
                         (False, False): "none"}[(has_mix, has_eval)]
        if self.role != expected_role:
            raise ValueError(f"role {self.role!r} contradicts mix/eval_sets (expected {expected_role!r})")
        for i, es in enumerate(self.eval_sets):
            if es.task not in self.tasks:
                raise ValueError(f"eval_sets[{i}].task {es.task!r} is not among tasks {self.tasks}")
            if es.split not in self.files:
                raise ValueError(f"eval_sets[{i}].split {es.split!r} has no files entry")
            if self.sizes is not None and es.split not in self.splits:
                raise ValueError(f"eval_sets[{i}].split {es.split!r} is not a listed split "
                                 f"{list(self.splits)}")
            if es.dataset not in (None, self.name) or es.language not in (None, self.language):
                raise ValueError(f"eval_sets[{i}]: dataset/language are filled in by the loader; "
                                 "leave them out")
            es.dataset, es.language = self.name, self.language
        return self

    @property
    def splits(self) -> dict[str, int]:
        """Split sizes as listed by Taiyi (parsed from ``sizes``; empty when none are listed)."""
        return parse_sizes(self.sizes) if self.sizes else {}

    @property
    def stages(self) -> list[int]:
        """Training stages whose data include this source (stage-1 data is trained again in stage 2)."""
        firsts = {m.stage for m in self.mix}
        return [1, 2] if 1 in firsts else ([2] if firsts else [])

    @property
    def mix_total(self) -> int:
        return sum(m.count for m in self.mix)

    def raw_globs(self, split: str) -> list[list[str]]:
        """Required patterns of a split, each as its list of alternatives."""
        return [p.split("|") for p in self.files[split]]


class Catalog:
    """All datasets by name, in file order."""

    def __init__(self, datasets: Iterable[Dataset], sources: dict[str, str] | None = None) -> None:
        self.datasets: dict[str, Dataset] = {}
        self.sources = dict(sources or {})  # dataset name -> YAML file it came from
        for ds in datasets:
            if ds.name in self.datasets:
                raise CatalogError(f"dataset {ds.name!r} is defined twice "
                                   f"({self.sources.get(ds.name, '?')} and another file)")
            self.datasets[ds.name] = ds
        self._eval: dict[str, EvalSet] = {}
        for ds in self.datasets.values():
            if ds.duplicate_of is not None and ds.duplicate_of not in self.datasets:
                raise CatalogError(f"{self.sources.get(ds.name, '?')}: dataset {ds.name!r}: "
                                   f"key 'duplicate_of': unknown dataset {ds.duplicate_of!r}")
            for es in ds.eval_sets:
                if es.name in self._eval:
                    first = self._eval[es.name].dataset
                    raise CatalogError(f"eval set {es.name!r} is defined twice ({first} and {ds.name})")
                self._eval[es.name] = es

    def __len__(self) -> int:
        return len(self.datasets)

    def __iter__(self):
        return iter(self.datasets.values())

    def __contains__(self, name: object) -> bool:
        return name in self.datasets

    def names(self) -> list[str]:
        return list(self.datasets)

    def get(self, name: str) -> Dataset:
        try:
            return self.datasets[name]
        except KeyError:
            raise CatalogError(_unknown("dataset", name, self.datasets)) from None

    def select(
        self, task: str | None = None, lang: str | None = None, role: str | None = None
    ) -> list[Dataset]:
        """Datasets filtered by task name, language and role.

        ``role="train"`` also returns datasets with role ``both`` (all training sources), and likewise
        ``role="eval"``; ``"both"`` and ``"none"`` match exactly.
        """
        if task is not None and task not in TASK_NAMES:
            raise CatalogError(_unknown("task", task, TASK_NAMES))
        if lang is not None and lang not in ("en", "zh", "multi"):
            raise CatalogError(f"unknown language {lang!r} (known: en, zh, multi)")
        roles = {"train": {"train", "both"}, "eval": {"eval", "both"}, "both": {"both"}, "none": {"none"}}
        if role is not None and role not in roles:
            raise CatalogError(_unknown("role", role, roles))
        return [
            ds for ds in self.datasets.values()
            if (task is None or task in ds.tasks)
            and (lang is None or ds.language == lang)
            and (role is None or ds.role in roles[role])
        ]

    def eval_sets(self, suite: str | None = None) -> list[EvalSet]:
        """Evaluation views; ``suite`` = main (Taiyi's 13 sets), ablation (200-sample subsets), zero_shot."""
        if suite is not None and suite not in ("main", "ablation", "zero_shot"):
            raise CatalogError(_unknown("suite", suite, ("main", "ablation", "zero_shot")))
        return [es for es in self._eval.values() if suite is None or suite in es.suites]

    def eval_set(self, name: str) -> EvalSet:
        try:
            return self._eval[name]
        except KeyError:
            raise CatalogError(_unknown("eval set", name, self._eval)) from None

    def mix_entries(self) -> list[tuple[Dataset, MixEntry]]:
        return [(ds, m) for ds in self.datasets.values() for m in ds.mix]


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    known = list(known)
    close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
    if close:
        hint = f"; did you mean: {', '.join(close)}?"
    elif len(known) <= 15:
        hint = f"; known: {', '.join(known)}"
    else:
        hint = f"; {len(known)} known {kind}s (see `taiyi catalog list`)"
    return f"unknown {kind} {name!r}{hint}"


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise CatalogError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _format_error(path: Path, entry: dict, index: int, exc: ValidationError) -> str:
    name = entry.get("name", f"#{index}") if isinstance(entry, dict) else f"#{index}"
    lines = [f"{path.name}: dataset {name!r}: invalid entry"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(entry)"
        lines.append(f"  key '{loc}': {err['msg']}")
    return "\n".join(lines)


def load_file(path: Path) -> list[Dataset]:
    """Load and validate one catalog YAML file."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (safe loader)
    except CatalogError as exc:
        raise CatalogError(f"{path.name}: {exc}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path.name}: cannot read catalog file: {exc}") from None
    if not isinstance(data, dict) or set(data) != {"datasets"} or not isinstance(data["datasets"], list):
        raise CatalogError(f"{path.name}: expected a mapping with one key 'datasets' holding a list")
    out = []
    for i, entry in enumerate(data["datasets"]):
        try:
            out.append(Dataset.model_validate(entry))
        except ValidationError as exc:
            raise CatalogError(_format_error(path, entry, i, exc)) from None
    return out


def load_catalog(paths: Sequence[Path | str] | None = None) -> Catalog:
    """The catalog from ``paths`` (default: the YAML files shipped in this package, then every
    ``*.yaml`` in the folders of ``$TAIYI_CATALOG_PATH``, same schema and checks; a name defined
    twice is an error naming both files)."""
    if paths is None:
        files = tuple(CATALOG_DIR / f for f in DEFAULT_FILES)
        files += user_catalog_files(os.environ.get(CATALOG_PATH_ENV, ""))
        return _cached_load(files, tuple(f.stat().st_mtime_ns for f in files))  # re-read a changed file
    return _load(tuple(Path(p) for p in paths))


def user_catalog_files(search_path: str) -> tuple[Path, ...]:
    """The ``*.yaml`` files of the folders in a ``$TAIYI_CATALOG_PATH``-style list (``:``-separated)."""
    files: list[Path] = []
    for folder in (Path(p).expanduser() for p in search_path.split(os.pathsep) if p):
        if not folder.is_dir():
            raise CatalogError(f"{CATALOG_PATH_ENV}: {folder} is not a folder of catalog YAML files")
        files.extend(sorted(folder.glob("*.yaml")))
    return tuple(files)


@functools.cache
def _cached_load(files: tuple[Path, ...], mtimes: tuple[int, ...]) -> Catalog:
    return _load(files)


def _load(paths: tuple[Path, ...]) -> Catalog:
    datasets: list[Dataset] = []
    sources: dict[str, str] = {}
    for path in paths:
        for ds in load_file(path):
            if ds.name in sources:
                raise CatalogError(f"{path.name}: dataset {ds.name!r}: key 'name': already defined in "
                                   f"{sources[ds.name]}")
            sources[ds.name] = path.name
            datasets.append(ds)
    return Catalog(datasets, sources)


__all__ = [
    "READER_NAMES", "STAGE2_TASKS", "TASK_CODES", "TASK_NAMES", "Catalog", "CatalogError", "Dataset",
    "EvalSet", "MixEntry", "load_catalog", "load_file", "parse_sizes",
]
