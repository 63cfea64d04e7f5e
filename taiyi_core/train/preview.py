"""`taiyi train preview`: what a preset trains on, token by token, through the training encoder itself.

The conversations are encoded by ``chat_format.make_encoder`` with the preset's tokenizer,
conversation format, ``max_length`` and ``eod_token``: the same call ``data.tokenize_sft`` makes for
a stage, so what is shown is what is trained (no second implementation).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from taiyi_core.config import Preset
from taiyi_core.train.chat_format import IGNORE, ConversationError, make_encoder
from taiyi_core.train.config import train_settings

# rich styles of the two kinds of token in the text view
TRAINED_STYLE = "bold black on green"
CONTEXT_STYLE = "dim"


def read_conversations(path: Path, limit: int | None = None) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Yield (``file:line``, messages) from a JSONL file of ``{"messages": [...]}`` objects."""
    with path.open(encoding="utf-8") as fh:
        count = 0
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path.name}:{lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConversationError(f"{where}: not valid JSON ({exc.msg})") from exc
            if not isinstance(obj, dict) or not isinstance(obj.get("messages"), list):
                raise ConversationError(f'{where}: expected an object with a "messages" list')
            yield where, obj["messages"]
            count += 1
            if limit is not None and count >= limit:
                return


def encode_preview(preset: Preset, data: Path, n: int | None = None) -> tuple[Any, list[dict[str, Any]]]:
    """Return (tokenizer, one record per conversation: where, input_ids, labels, counts)."""
    from taiyi_core.train.trainer import load_tokenizer

    settings = train_settings(preset)
    tokenizer = load_tokenizer(preset.model)
    encode = make_encoder(tokenizer, settings.conversation_format, settings.max_length, settings.eod_token)
    records = []
    for where, messages in read_conversations(data, n):
        enc = encode(messages, where)
        records.append(
            {
                "sample": where,
                "format": settings.conversation_format,
                "input_ids": enc.input_ids,
                "labels": enc.labels,
                "tokens": len(enc.input_ids),
                "trained_tokens": enc.n_trained,
                "truncated": enc.truncated,
            }
        )
    return tokenizer, records


def runs(ids: list[int], labels: list[int]) -> Iterator[tuple[bool, list[int]]]:
    """Contiguous (trained?, token ids) runs of a sample."""
    start = 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or (labels[i] != IGNORE) != (labels[start] != IGNORE):
            yield labels[start] != IGNORE, ids[start:i]
            start = i


def highlighted(tokenizer: Any, record: dict[str, Any]) -> Any:
    """The decoded sample as rich Text, loss-bearing runs highlighted (special tokens shown)."""
    from rich.text import Text

    text = Text()
    for trained, ids in runs(record["input_ids"], record["labels"]):
        text.append(tokenizer.decode(ids), style=TRAINED_STYLE if trained else CONTEXT_STYLE)
    return text
