"""Load a curated SFT set (data/sft/stageN, HF datasets) and tokenise it with the stage's format."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from taiyi_core.train.chat_format import ENCODING_VERSION, make_encoder

REQUIRED_COLUMNS = ("id", "messages")


class SftDataError(ValueError):
    pass


def load_sft(path: Path) -> Any:
    import datasets

    if not path.is_dir():
        raise SftDataError(f"{path}: SFT data not found (run the curate step first)")
    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as exc:  # datasets raises FileNotFoundError/ValueError variants
        raise SftDataError(f"{path}: not a dataset saved with save_to_disk ({exc})") from exc
    if isinstance(ds, datasets.DatasetDict):
        if "train" not in ds:
            raise SftDataError(f"{path}: DatasetDict without a 'train' split (has {sorted(ds)})")
        ds = ds["train"]
    missing = [c for c in REQUIRED_COLUMNS if c not in ds.column_names]
    if missing:
        raise SftDataError(f"{path}: missing column(s) {missing}; have {ds.column_names}")
    if len(ds) == 0:
        raise SftDataError(f"{path}: the SFT set is empty")
    return ds


def tokenize_sft(
    ds: Any, tokenizer: Any, fmt: str, max_length: int, eod_token: str, cache_dir: Path | None = None
) -> tuple[Any, dict[str, int]]:
    """Return (dataset with input_ids/labels/length, stats). Samples with no trained token are dropped."""
    encode = make_encoder(tokenizer, fmt, max_length, eod_token)

    def _map(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {
            "input_ids": [],
            "labels": [],
            "length": [],
            "n_trained": [],
            "truncated": [],
        }
        for sid, messages in zip(batch["id"], batch["messages"], strict=True):
            enc = encode(messages, str(sid))
            out["input_ids"].append(enc.input_ids)
            out["labels"].append(enc.labels)
            out["length"].append(len(enc.input_ids))
            out["n_trained"].append(enc.n_trained)
            out["truncated"].append(enc.truncated)
        return out

    # Our own fingerprint: otherwise datasets hashes the map closure, i.e. dill-pickles the whole
    # tokenizer (about 20 s for a 152k-token Qwen vocabulary) just to name the cache.
    key = json.dumps(
        [
            ENCODING_VERSION,
            fmt,
            max_length,
            eod_token,
            ds._fingerprint,
            getattr(tokenizer, "name_or_path", ""),
            len(tokenizer),
            str(getattr(tokenizer, "chat_template", "")),
        ]
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    kwargs: dict[str, Any] = {"new_fingerprint": digest}
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        kwargs["cache_file_name"] = str(cache_dir / f"tokenised-{digest}.arrow")
    tok = ds.map(_map, batched=True, remove_columns=ds.column_names, desc="tokenise", **kwargs)
    n_trained = tok["n_trained"]
    keep = [i for i, n in enumerate(n_trained) if n > 0]
    stats = {
        "samples": len(ds),
        "dropped_no_target": len(ds) - len(keep),
        "truncated": int(sum(tok["truncated"])),
        "tokens": int(sum(tok["length"])),
        "trained_tokens": int(sum(n_trained)),
    }
    if not keep:
        raise SftDataError("no sample has a trained (assistant) token left after truncation")
    if len(keep) < len(tok):
        tok = tok.select(keep)
    return tok.select_columns(["input_ids", "labels", "length"]), stats
