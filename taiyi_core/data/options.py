"""The data step's knobs: ``preset.data.options``, validated here (unknown keys are errors).

Defaults follow the paper where it says something (caps from the catalog's final-mix counts, stage 1 =
the non-dialogue tasks, decomposition of extraction requests) and are stated choices where it does not
(dedup thresholds, overlap n-gram size), see taiyi_recipe.md §5.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError

from taiyi_core.tasks.registry import STAGE1_TASKS
from taiyi_core.validation import ConfigError, _explain

if TYPE_CHECKING:  # Preset holds DataOptions: importing it here at runtime would be a cycle
    from taiyi_core.config import Preset

# Taiyi stage 1 = IE + TC + text pairs + MT + title generation + "other" (report, DAC, Text2DT).
NON_DIALOGUE_TASKS = STAGE1_TASKS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DedupOptions(_Strict):
    exact: bool = True
    near: bool = True
    threshold: float = Field(0.85, gt=0, le=1)  # estimated Jaccard of character 5-gram shingles
    num_perm: int = Field(64, ge=16, le=512)
    shingle: int = Field(5, ge=2, le=20)


class OverlapOptions(_Strict):
    enabled: bool = True
    ngram: int = Field(8, ge=3, le=50)  # tokens: a word for Latin script, a character for CJK
    threshold: float = Field(0.5, gt=0, le=1)  # share of a training text's n-grams found in one eval set
    doc_ids: bool = True  # match PMID-like document ids across datasets


class AuditOptions(_Strict):
    """The fidelity audit (data/audit.py). ``sizes``: compare records read with the catalog's published
    split sizes (turn off for cuts such as the demo data); ``fail``: a red row makes curate raise."""

    sizes: bool = True
    size_tolerance: float = Field(0.02, ge=0, le=1)  # 2%: releases re-cut a few records between versions
    fail: bool = True


class StageOptions(_Strict):
    tasks: list[str] | Literal["all"]
    catalog_stage: bool = True  # also honour the catalog mix entry's `stage` (1 = in stage 1)


class DataOptions(_Strict):
    """Curation and rendering knobs of the data and curate steps."""

    shards: dict[str, PositiveInt] = Field(default_factory=dict)  # dataset -> number of array tasks
    decompose_fraction: float = Field(0.1, ge=0, le=1)  # training records rendered one request per type
    caps: dict[str, int] = Field(default_factory=dict)  # dataset or dataset:task -> cap (overrides catalog)
    default_cap: int | None = Field(None, ge=1)  # cap for mix entries that have none in the catalog
    use_caps: bool = True
    dedup: DedupOptions = Field(default_factory=DedupOptions)
    overlap: OverlapOptions = Field(default_factory=OverlapOptions)
    stage1: StageOptions = Field(default_factory=lambda: StageOptions(tasks=list(NON_DIALOGUE_TASKS)))
    stage2: StageOptions = Field(default_factory=lambda: StageOptions(tasks="all", catalog_stage=False))
    eval_suites: list[str] = Field(default_factory=lambda: ["main", "zero_shot", "ablation"])
    eval_max: int | None = Field(None, ge=1)  # cap every eval set (seeded) e.g. for the 200-sample ablation
    tokens: bool = True  # count tokens with the preset's tokenizer when it loads offline
    # RE training rows answered "no relation" (negative sentences, e.g. most of DDI) kept at most at this
    # share of a dataset's RE rows (a catalog mix entry's negative_ratio overrides it): enough for the
    # model to learn that "no relation" is an answer, not so many that it learns to say nothing
    negative_ratio: float = Field(0.25, ge=0, le=1)
    audit: AuditOptions = Field(default_factory=AuditOptions)

    def cap_for(self, dataset: str, task: str, catalog_cap: int | None) -> int | None:
        if not self.use_caps:
            return None
        for key in (f"{dataset}:{task}", dataset):
            if key in self.caps:
                return self.caps[key]
        return catalog_cap if catalog_cap is not None else self.default_cap


def data_options(preset: Preset) -> DataOptions:
    """``preset.data.options`` as DataOptions; a bad key raises ConfigError naming it."""
    raw: object = preset.data.options or {}
    try:
        return DataOptions.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        first = {**first, "loc": ("data", "options", *first["loc"])}
        raise ConfigError(f"preset {preset.name!r}: {_explain(first, _Wrapper)}") from None


class _OptionsHolder(_Strict):
    options: DataOptions


class _Wrapper(_Strict):
    """Only for error messages: lets ``_explain`` walk data.options.<key>."""

    data: _OptionsHolder
