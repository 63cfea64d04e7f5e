"""Packing and padding-free batches, without attention between packed samples.

Samples are packed into rows of at most ``max_length`` tokens (best-fit decreasing). Each row
carries ``position_ids`` that restart at 0 at every sample and NO attention mask. How the samples
are then kept apart depends on the attention implementation (``PACKING_MODES``, one home):
- ``position_ids`` (sdpa, eager, flex_attention): transformers 5 builds a block-diagonal causal
  mask from the position resets (masking_utils.find_packed_sequence_indices), row by row, so a
  batch of several rows is fine. Tested (tests/train/test_packing.py): per-sample losses equal
  the unpacked ones, and the same rows without the resets leak (negative control).
- ``varlen`` (flash_attention_2/3): flash attention gets no mask; it infers sequence boundaries
  from position ids only when the batch has ONE row (modeling_flash_attention_utils.
  _is_packed_sequence returns False for batch_size != 1), so a batch of several packed rows
  would attend across samples. The collator therefore flattens the batch into one row and
  passes the boundaries explicitly, as TRL's padding-free collator does: ``cu_seq_lens_q/k``
  (int32 cumulative sample lengths) and ``max_length_q/k`` (the longest sample), which
  ``_flash_attention_forward`` hands to ``flash_attn_varlen_func``. Tested on CPU with a reference
  varlen attention registered in place of the kernel (no flash-attn here).
Anything else (remote modelling code, unknown implementations) trains unpacked, with the reason
recorded in stage.json.

Two more things are ours to guarantee in every mode:
- the KV cache is off during training (with a cache the packed-mask path is skipped), and
- the first token of every sample has label -100, so the last token of one sample never learns
  to predict the first token of the next.
Padding at the end of a row gets its own position run (0, 1, ...) and label -100, so it is a
separate "sample" that nobody attends to.

Without packing (the baseline) rows are single samples right-padded to the batch's longest,
with an attention mask.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from taiyi_core.train.chat_format import IGNORE


def pack_best_fit(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    """Best-fit decreasing: indices grouped into bins whose total length is <= capacity.

    Deterministic for given lengths (ties broken by index). O(n log n) with a sorted list of
    remaining capacities.
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins: list[list[int]] = []
    free: list[tuple[int, int]] = []  # (remaining capacity, bin index), kept sorted
    for i in order:
        n = lengths[i]
        if n > capacity:
            raise ValueError(f"sample {i} has {n} tokens, more than the row capacity {capacity}")
        pos = bisect.bisect_left(free, (n, -1))
        if pos < len(free):
            remaining, b = free.pop(pos)
            bins[b].append(i)
            bisect.insort(free, (remaining - n, b))
        else:
            bins.append([i])
            bisect.insort(free, (capacity - n, len(bins) - 1))
    return bins


class PackedRows(torch.utils.data.Dataset):
    """Rows made of several samples each; item = concatenated ids/labels + restarting position ids."""

    def __init__(self, samples: Any, bins: list[list[int]]):
        self.samples = samples  # anything indexable giving {"input_ids", "labels"}
        self.bins = bins

    def __len__(self) -> int:
        return len(self.bins)

    def __getitem__(self, idx: int) -> dict[str, list[int]]:
        ids: list[int] = []
        labels: list[int] = []
        pos: list[int] = []
        for i in self.bins[idx]:
            s = self.samples[i]
            ids += s["input_ids"]
            labels += [IGNORE] + list(s["labels"][1:])
            pos += list(range(len(s["input_ids"])))
        return {"input_ids": ids, "labels": labels, "position_ids": pos}


@dataclass
class _Collator:
    """Shared accounting: running totals, and a per-batch record for the training ledger."""

    pad_id: int
    ledger: Any = None  # callbacks.BatchLedger, set by the trainer
    real_total: int = 0
    processed_total: int = 0

    def _account(self, batch: dict[str, torch.Tensor], real: int, samples: int) -> dict[str, torch.Tensor]:
        processed = int(batch["input_ids"].numel())
        self.real_total += real
        self.processed_total += processed
        if self.ledger is not None:
            self.ledger.record(batch, real, processed, samples)
        return batch

    @property
    def efficiency(self) -> float:
        return self.real_total / self.processed_total if self.processed_total else 0.0


# How packed samples are kept apart, per attention implementation (see the module doc).
PACKING_MODES = {
    "sdpa": "position_ids",
    "eager": "position_ids",
    "flex_attention": "position_ids",
    "flash_attention_2": "varlen",
    "flash_attention_3": "varlen",
}


@dataclass
class PackedCollator(_Collator):
    """Pads packed rows to the longest row in the batch; no attention mask (see module doc).

    ``varlen``: the rows are concatenated into one row instead, with explicit sample boundaries
    (``cu_seq_lens_q/k``, ``max_length_q/k``) for flash attention's varlen kernels.
    """

    varlen: bool = False

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        if self.varlen:
            return self._flat(rows)
        width = max(len(r["input_ids"]) for r in rows)
        ids, labels, pos = [], [], []
        real = samples = 0
        for r in rows:
            pad = width - len(r["input_ids"])
            ids.append(list(r["input_ids"]) + [self.pad_id] * pad)
            labels.append(list(r["labels"]) + [IGNORE] * pad)
            pos.append(list(r["position_ids"]) + list(range(pad)))
            real += len(r["input_ids"])
            samples += sum(1 for p in r["position_ids"] if p == 0)
        batch = {
            "input_ids": torch.tensor(ids, dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
            "position_ids": torch.tensor(pos, dtype=torch.long),
        }
        return self._account(batch, real, samples)


    def _flat(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        ids = [t for r in rows for t in r["input_ids"]]
        labels = [t for r in rows for t in r["labels"]]
        pos = [p for r in rows for p in r["position_ids"]]
        starts = [i for i, p in enumerate(pos) if p == 0]
        bounds = torch.tensor([*starts, len(pos)], dtype=torch.int32)
        longest = int(bounds.diff().max())
        batch: dict[str, Any] = {
            "input_ids": torch.tensor([ids], dtype=torch.long),
            "labels": torch.tensor([labels], dtype=torch.long),
            "position_ids": torch.tensor([pos], dtype=torch.long),
            "cu_seq_lens_q": bounds,
            "cu_seq_lens_k": bounds,
            "max_length_q": longest,
            "max_length_k": longest,
        }
        return self._account(batch, len(ids), len(starts))


@dataclass
class PaddedCollator(_Collator):
    """One sample per row, right-padded to the batch's longest, with an attention mask (baseline)."""

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        width = max(len(r["input_ids"]) for r in rows)
        ids, labels, mask = [], [], []
        for r in rows:
            n = len(r["input_ids"])
            ids.append(list(r["input_ids"]) + [self.pad_id] * (width - n))
            labels.append(list(r["labels"]) + [IGNORE] * (width - n))
            mask.append([1] * n + [0] * (width - n))
        batch = {
            "input_ids": torch.tensor(ids, dtype=torch.long),
            "labels": torch.tensor(labels, dtype=torch.long),
            "attention_mask": torch.tensor(mask, dtype=torch.long),
        }
        return self._account(batch, int(batch["attention_mask"].sum()), len(rows))


def packing_supported(model: Any) -> tuple[str | None, str]:
    """(packing mode from PACKING_MODES, or None with the reason packing is refused for this model)."""
    base = model
    while hasattr(base, "get_base_model") or hasattr(base, "base_model"):
        nxt = base.get_base_model() if hasattr(base, "get_base_model") else base.base_model
        if nxt is base:
            break
        base = nxt
    module = type(base).__module__
    if not module.startswith("transformers."):
        return (
            None,
            f"{type(base).__name__} comes from remote code ({module}); packing needs transformers' masks "
            "(convert the checkpoint: `taiyi model convert`)",
        )
    impl = getattr(base.config, "_attn_implementation", None) or "sdpa"
    mode = PACKING_MODES.get(impl)
    if mode is None:
        return None, (
            f"attention implementation {impl!r} is not known to keep packed samples apart "
            f"(packing supports {', '.join(PACKING_MODES)})"
        )
    return mode, f"{mode} packing with {impl}"
