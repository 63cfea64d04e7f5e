"""A fast (``tokenizers``) tokenizer with Qwen-7B v1's exact token ids, built from ``qwen.tiktoken``.

v1's ``QWenTokenizer`` is NFC normalisation + tiktoken (byte-level BPE over ranks, pre-split by
``PAT_STR``) + 208 special tokens from id 151643. The BPE vocabulary and merges come from
transformers' ``TikTokenConverter`` (a merge's priority is the rank of the token it makes, as in
tiktoken). Qwen2's tokenizer uses the same pre-split regex and NFC, so when ``AutoTokenizer`` loads
the result as ``Qwen2Tokenizer`` (it does for ``model_type=qwen2`` and rebuilds the pipeline) the
ids do not change; the tests check the ids after that reload.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from taiyi_core.models.qwen_v1_config import ConvertError

TIKTOKEN_FILE = "qwen.tiktoken"
# v1's pre-tokenizer split (tokenization_qwen.PAT_STR, identical at HEAD and 2023-09).
PAT_STR = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
ENDOFTEXT, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = (ENDOFTEXT, IM_START, IM_END) + tuple(f"<|extra_{i}|>" for i in range(205))
SPECIAL_START_ID = 151643  # v1 numbers its special tokens from here (after the 151,643 ranks)


def load_ranks(path: Path) -> dict[bytes, int]:
    """``qwen.tiktoken``: one ``base64(token) rank`` per line; ranks must be 0..151642 exactly."""
    ranks: dict[bytes, int] = {}
    for lineno, line in enumerate(path.read_bytes().splitlines(), 1):
        if not line:
            continue
        try:
            token, rank = line.split()
            ranks[base64.b64decode(token, validate=True)] = int(rank)
        except ValueError as exc:
            raise ConvertError(f"{path}:{lineno}: expected 'base64-token rank', got {line[:60]!r}") from exc
    if sorted(ranks.values()) != list(range(SPECIAL_START_ID)):
        raise ConvertError(
            f"{path}: {len(ranks)} ranks, expected exactly 0..{SPECIAL_START_ID - 1} (Qwen-7B's vocabulary)"
        )
    return ranks


def require_tiktoken(src: Path) -> Path:
    path = src / TIKTOKEN_FILE
    if not path.is_file():
        raise ConvertError(f"{src}: {TIKTOKEN_FILE} is missing (Qwen-v1's vocabulary, from Qwen/Qwen-7B)")
    return path


def build_backend(tiktoken_file: Path) -> Any:
    """The ``tokenizers.Tokenizer`` (BPE, NFC, v1 split, byte-level, specials) for ``qwen.tiktoken``."""
    from tokenizers import normalizers
    from transformers.convert_slow_tokenizer import TikTokenConverter

    ranks = load_ranks(tiktoken_file)

    class _Converter(TikTokenConverter):  # read the file ourselves: tiktoken is not needed to convert
        @staticmethod
        def load_tiktoken_bpe(tiktoken_url: str) -> dict[bytes, int]:
            return ranks

    converter = _Converter(str(tiktoken_file), pattern=PAT_STR, extra_special_tokens=list(SPECIAL_TOKENS))
    tok = converter.converted()
    tok.normalizer = normalizers.NFC()  # QWenTokenizer.tokenize NFC-normalises before tiktoken
    got = [tok.token_to_id(t) for t in SPECIAL_TOKENS]
    if got != list(range(SPECIAL_START_ID, SPECIAL_START_ID + len(SPECIAL_TOKENS))):
        raise ConvertError(f"{tiktoken_file}: special tokens landed on ids {got[:3]}..., not from 151643")
    return tok


def write_fast_tokenizer(src: Path, dst: Path, *, model_max_length: int) -> dict[str, Any]:
    """Write ``tokenizer.json`` + ``tokenizer_config.json`` to ``dst``; return what was recorded."""
    from transformers import PreTrainedTokenizerFast

    tiktoken_file = require_tiktoken(src)
    source_cfg: dict[str, Any] = {}
    if (src / "tokenizer_config.json").is_file():
        source_cfg = json.loads((src / "tokenizer_config.json").read_text(encoding="utf-8"))
    chat_template = source_cfg.get("chat_template")
    if chat_template is None and (src / "chat_template.jinja").is_file():
        chat_template = (src / "chat_template.jinja").read_text(encoding="utf-8")
    fast = PreTrainedTokenizerFast(
        tokenizer_object=build_backend(tiktoken_file),
        eos_token=ENDOFTEXT,  # v1's eod: the generation config's eos and pad
        pad_token=ENDOFTEXT,
        model_max_length=model_max_length,
        clean_up_tokenization_spaces=False,
    )
    if chat_template is not None:
        fast.chat_template = chat_template
    fast.save_pretrained(str(dst))
    cfg_path = dst / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["tokenizer_class"] = "Qwen2Tokenizer"  # what AutoTokenizer picks for qwen2 anyway (same pipeline)
    cfg_path.write_text(json.dumps(cfg, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return {
        "from": TIKTOKEN_FILE,
        "ranks": SPECIAL_START_ID,
        "special_tokens": {"first_id": SPECIAL_START_ID, "count": len(SPECIAL_TOKENS)},
        "eos_token": ENDOFTEXT,
        "pad_token": ENDOFTEXT,
        "model_max_length": model_max_length,
        "chat_template": "none (the source has none)" if chat_template is None else "copied from the source",
        "source_model_max_length": source_cfg.get("model_max_length"),
    }
