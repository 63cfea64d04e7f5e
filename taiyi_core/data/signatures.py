"""Dedup signatures computed in the data array tasks, so curate only does the global part.

Computing MinHash signatures (hashing every character shingle of every row) is most of dedup's
time and needs nothing but the row itself, so each data task writes, next to
``instruct/<dataset>/<split><sfx>.jsonl``, a sidecar ``<split><sfx>.sig.npz`` holding for every
training row its exact-dedup key and its MinHash hash values. Curate then only looks keys up in a
hash set and runs LSH insert/query on the stored signatures; a missing sidecar, or one made with
other parameters, is recomputed from the rows (same values), so results never depend on it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from datasketch import LeanMinHash

from taiyi_core.atomic import atomic_path
from taiyi_core.data import dedup
from taiyi_core.data.options import DedupOptions

log = logging.getLogger(__name__)
SUFFIX = ".sig.npz"


def sidecar_path(jsonl: Path) -> Path:
    return jsonl.with_name(jsonl.name.removesuffix(".jsonl") + SUFFIX)


def params(opts: DedupOptions) -> dict[str, Any]:
    """What the stored values depend on (part of the data task's stamp and checked on load)."""
    return {
        "exact": opts.exact,
        "near": opts.near,
        "num_perm": opts.num_perm,
        "shingle": opts.shingle,
        "seed": dedup.SEED,
        "scheme": dedup.template(opts.num_perm).scheme,
        "key_version": dedup.KEY_VERSION,
    }


def compute(rows: list[dict[str, Any]], opts: DedupOptions) -> dict[str, np.ndarray]:
    """Arrays for the training rows of one instruction file: line numbers, exact keys, hash values."""
    lines = [i for i, r in enumerate(rows) if r.get("use") == "train"]
    keys = [dedup.exact_key(rows[i]) for i in lines] if opts.exact else []
    width = opts.num_perm if opts.near else 0
    dtype = dedup.template(opts.num_perm).hashvalues.dtype
    hv = np.empty((len(lines), width), dtype=dtype)
    if opts.near:
        for j, i in enumerate(lines):
            hv[j] = dedup.minhash(dedup.near_text(rows[i]), opts.shingle, opts.num_perm).hashvalues
    return {
        "line": np.asarray(lines, dtype=np.int64),
        "exact": np.asarray(keys, dtype="U32"),
        "hashvalues": hv,
    }


def write(path: Path, rows: list[dict[str, Any]], opts: DedupOptions) -> None:
    """Write the sidecar of one instruction file atomically (numpy ``.npz``, no pickles)."""
    arrays: dict[str, Any] = compute(rows, opts)  # Any: numpy's savez stub reads **kwargs as its options
    meta = {**params(opts), "rows": len(rows)}
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        np.savez(fh, meta=np.asarray(json.dumps(meta, sort_keys=True)), **arrays)


class Signatures:
    """Exact keys and MinHashes of loaded rows: stored values where a valid sidecar exists, else computed.

    Rows are identified by object identity: they are the dicts curate loaded, kept alive by its lists.
    """

    def __init__(self, opts: DedupOptions) -> None:
        self.opts = opts
        self._keys: dict[int, str] = {}
        self._hv: dict[int, np.ndarray] = {}
        self._scheme = dedup.template(opts.num_perm).scheme
        self.loaded = 0
        self.computed = 0

    def attach(self, jsonl: Path, rows: list[dict[str, Any]]) -> None:
        """Load the sidecar of ``jsonl`` (whose rows, in file order, are ``rows``) if it is valid."""
        side = sidecar_path(jsonl)
        if not side.is_file():
            return
        with np.load(side, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            want = {**params(self.opts), "rows": len(rows)}
            if meta != want:
                log.warning("%s: made with %s, need %s; recomputing its signatures", side, meta, want)
                return
            lines, keys, hv = z["line"], z["exact"], z["hashvalues"]
        for j, i in enumerate(lines.tolist()):
            row = rows[i]
            if self.opts.exact:
                self._keys[id(row)] = str(keys[j])
            if self.opts.near:
                self._hv[id(row)] = hv[j]
            self.loaded += 1

    def key(self, row: dict[str, Any]) -> str:
        k = self._keys.get(id(row))
        if k is None:
            self.computed += 1
            return dedup.exact_key(row)
        return k

    def minhash(self, row: dict[str, Any]) -> Any:
        hv = self._hv.get(id(row))
        if hv is None:
            self.computed += 1
            return dedup.minhash(dedup.near_text(row), self.opts.shingle, self.opts.num_perm)
        return LeanMinHash(seed=dedup.SEED, hashvalues=hv, scheme=self._scheme)
