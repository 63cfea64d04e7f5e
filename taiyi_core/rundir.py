"""The run directory: one folder per run, the unit a user lists, resumes and deletes.

runs/<run>/
  manifest.json          every submission (step, job id, array index, profile, config hash, commit)
  preset.yaml            the preset the run was started with (frozen copy)
  logs/<step>/           submitit job folders and stdout/stderr
  data/unified/<dataset>/<split>.parquet
  data/instruct/<dataset>/<split>.jsonl
  data/sft/stage1, data/sft/stage2, data/eval/<dataset>
  data/quarantine/<dataset>.jsonl
  data/report.json
  train/stage1, train/stage2   checkpoints, adapter, trainer log (JSONL)
  eval/<dataset>/predictions.jsonl, metrics.json
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# step and eval-set names become folder names inside the run: no separators, no "..", no leading dot
_PART_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+@-]{0,199}$")


def safe_name(kind: str, name: str) -> str:
    """``name`` when it can be one folder name inside a run directory; else a one-line ValueError."""
    if not _PART_NAME.match(name) or ".." in name:
        raise ValueError(
            f"{kind} name {name!r}: expected letters, digits, '.', '_', '+', '@' or '-' "
            "(no '/', no '..', at most 200 characters)"
        )
    return name


def runs_root() -> Path:
    return Path(os.environ.get("TAIYI_RUNS", "runs")).resolve()


@dataclass(frozen=True)
class RunDir:
    root: Path

    @classmethod
    def named(cls, name: str, base: Path | None = None) -> RunDir:
        if not _RUN_NAME.match(name):
            raise ValueError(
                f"run name {name!r}: expected letters, digits, '.', '_' or '-' "
                "(no '/', no '..', at most 100 characters)"
            )
        return cls((base or runs_root()) / name)

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def preset(self) -> Path:
        return self.root / "preset.yaml"

    @classmethod
    def from_arg(cls, value: str, base: Path | None = None) -> RunDir:
        """``--run`` as users write it: a value with a '/' is a run folder, anything else a run name
        (so ``..`` or ``.`` is refused as a name, never taken as the folder above)."""
        if "/" in value:
            return cls(Path(value).expanduser().resolve())
        return cls.named(value, base)

    def logs(self, step: str) -> Path:
        return self.root / "logs" / safe_name("step", step)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def unified(self) -> Path:
        return self.data / "unified"

    @property
    def instruct(self) -> Path:
        return self.data / "instruct"

    @property
    def quarantine(self) -> Path:
        return self.data / "quarantine"

    def sft(self, stage: int) -> Path:
        return self.data / "sft" / f"stage{stage}"

    @property
    def eval_data(self) -> Path:
        return self.data / "eval"

    def train(self, stage: int) -> Path:
        return self.root / "train" / f"stage{stage}"

    def eval(self, dataset: str) -> Path:
        return self.root / "eval" / safe_name("eval set", dataset)

    def eval_file(self, dataset: str) -> Path:
        """``data/eval/<set>.jsonl``, the set as curate wrote it."""
        return self.eval_data / f"{safe_name('eval set', dataset)}.jsonl"

    def ensure(self) -> RunDir:
        self.root.mkdir(parents=True, exist_ok=True)
        return self


def list_runs(base: Path | None = None) -> list[RunDir]:
    """Runs under the runs root, newest first (by manifest or folder modification time)."""
    base = base or runs_root()
    if not base.is_dir():
        return []
    runs = [RunDir(p) for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")]

    def mtime(r: RunDir) -> float:
        return (r.manifest if r.manifest.exists() else r.root).stat().st_mtime

    return sorted(runs, key=mtime, reverse=True)
