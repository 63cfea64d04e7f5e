"""The resumable generation loop for evaluation (the backends are in ``evaluate/backends/``).

Batches are formed from prompts sorted by length (longest first, so an out-of-memory error shows
up in the first batch, and padding is minimal); results go back to their original positions. With
left padding and the attention mask, greedy batched output equals one-by-one output (tested).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Sequence
from typing import Any

from taiyi_core.evaluate.backends.base import Generator
from taiyi_core.evaluate.config import Decoding
from taiyi_core.evaluate.io import EvalRow, PredictionStore

log = logging.getLogger(__name__)


def batch_seed(decoding: Decoding, first_id: str) -> int:
    """Per-batch sampling seed: reproducible for the same batch, independent of resume position."""
    return (decoding.seed + zlib.crc32(first_id.encode())) % (2**31)


def generate_all(
    rows: Sequence[EvalRow],
    generator: Generator,
    max_new_tokens: int,
    decoding: Decoding,
    store: PredictionStore | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Generate for the rows not yet in ``store``; returns all prediction rows by id.

    Each finished chunk is appended to the store before the next starts, so a kill loses at most
    one chunk. Rows are processed longest prompt first; the caller restores the original order.
    """
    done = store.load() if store is not None else {}
    if store is not None and store.dropped_partial_line:
        log.warning("%s: dropped a truncated last line (the previous job was killed mid-write)", store.path)
    todo = [r for r in rows if r.id not in done]
    encoded = []
    cut: set[str] = set()  # ids whose prompt was cut to max_prompt_tokens (kept with each row)
    for r in todo:
        before = generator.format.truncated
        encoded.append((r, generator.format(r.prompt)))
        if generator.format.truncated > before:
            cut.add(r.id)
    encoded.sort(key=lambda pair: len(pair[1]), reverse=True)
    for start in range(0, len(encoded), generator.chunk_size):
        chunk = encoded[start : start + generator.chunk_size]
        outs = generator.generate(
            [ids for _, ids in chunk], max_new_tokens, batch_seed(decoding, chunk[0][0].id)
        )
        new: list[dict[str, Any]] = [
            {
                "id": r.id,
                "prompt": r.prompt,
                "prediction": o.text,
                "target": r.target,
                "new_tokens": o.new_tokens,
                "prompt_tokens": len(ids),
                "prompt_truncated": r.id in cut,
            }
            for (r, ids), o in zip(chunk, outs, strict=True)
        ]
        if store is not None:
            store.append(new)
        done.update({row["id"]: row for row in new})
        if on_batch is not None:
            on_batch(len(chunk))
    return done
