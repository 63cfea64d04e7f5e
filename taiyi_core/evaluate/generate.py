"""Generation for evaluation: the HF backend (batched, left-padded, length-sorted) and the resumable loop.

Batches are formed from prompts sorted by length (longest first, so an out-of-memory error shows
up in the first batch, and padding is minimal); results go back to their original positions. With
left padding and the attention mask, greedy batched output equals one-by-one output (tested).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from taiyi_core.evaluate.config import Decoding, EvalSettings
from taiyi_core.evaluate.io import EvalRow, PredictionStore
from taiyi_core.evaluate.prompting import Prompting, chat_prompt, resolve_prompting, token_id
from taiyi_core.evaluate.weights import Weights

log = logging.getLogger(__name__)


@dataclass
class GenOut:
    text: str
    new_tokens: int


class Generator(Protocol):
    backend: str
    chunk_size: int  # prompts handed over per call (and appended to predictions.jsonl per call)
    format: PromptFormatter  # prompt -> token ids (counts truncated prompts)

    def generate(self, prompts: Sequence[list[int]], max_new_tokens: int, seed: int) -> list[GenOut]: ...


def batch_seed(decoding: Decoding, first_id: str) -> int:
    """Per-batch sampling seed: reproducible for the same batch, independent of resume position."""
    return (decoding.seed + zlib.crc32(first_id.encode())) % (2**31)


class PromptFormatter:
    """Instance prompt -> token ids, through the tokenizer's chat template (or as raw text)."""

    def __init__(
        self, tokenizer: Any, prompt_format: str, max_prompt_tokens: int, eod_token: str = "<|endoftext|>"
    ):
        if prompt_format == "chat_template" and not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                "eval.prompt_format is chat_template but the tokenizer has no chat template; "
                "save the training tokenizer with the adapter, or set eval.prompt_format: raw"
            )
        if prompt_format not in ("chat_template", "taiyi1", "raw"):
            raise ValueError(f"prompt format {prompt_format!r}: resolve 'auto' first (resolve_prompting)")
        # convert_tokens_to_ids, not get_vocab(): QWenTokenizer keeps its special tokens out of the vocab
        self.eod_id = token_id(tokenizer, eod_token)
        if prompt_format == "taiyi1" and self.eod_id is None:
            raise ValueError(f"eval.prompt_format is taiyi1 but the tokenizer has no {eod_token!r} token")
        self.tokenizer = tokenizer
        self.prompt_format = prompt_format
        self.eod_token = eod_token
        self.max_prompt_tokens = max_prompt_tokens
        self.truncated = 0

    def __call__(self, prompt: str) -> list[int]:
        text = chat_prompt(self.tokenizer, prompt) if self.prompt_format == "chat_template" else prompt
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if (
            self.prompt_format == "taiyi1"
        ):  # as train/chat_format.encode_taiyi1: <eod> user <eod>, then the answer
            ids = [self.eod_id, *ids, self.eod_id]
        if len(ids) > self.max_prompt_tokens:
            # Keep the end: the generation prompt and the instruction's tail; counted in metrics.
            self.truncated += 1
            ids = ids[-self.max_prompt_tokens :]
        return ids


def pick_dtype(name: str, device: str) -> Any:
    import torch

    if name != "auto":
        return getattr(torch, name)
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


class HFGenerator:
    backend = "hf"

    def __init__(self, model: Any, prompting: Prompting, settings: EvalSettings):
        self.model = model
        self.tokenizer = prompting.tokenizer
        self.prompting = prompting
        self.decoding = settings.decoding
        self.chunk_size = settings.batch_size
        self.format = PromptFormatter(
            self.tokenizer, prompting.prompt_format, settings.max_prompt_tokens, prompting.eod_token
        )
        self.stop_ids = list(prompting.stop_ids)
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else self.stop_ids[0]

    @classmethod
    def load(
        cls, weights: Weights, settings: EvalSettings, prompting: Prompting | None = None
    ) -> HFGenerator:
        import torch
        from transformers import AutoModelForCausalLM

        from taiyi_core.models.remote_code import guard_model, remote_code_errors

        device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = pick_dtype(settings.dtype, device)
        prompting = prompting or resolve_prompting(weights, settings)
        kwargs: dict[str, Any] = {
            "dtype": dtype,
            "trust_remote_code": weights.trust_remote_code,
            "revision": weights.revision,
        }
        if settings.load_in_4bit:
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_use_double_quant=True,
                bnb_4bit_compute_dtype=dtype,
            )
            kwargs["device_map"] = {"": 0} if device == "cuda" else {"": "cpu"}
        guard_model(weights.base, trust_remote_code=weights.trust_remote_code, revision=weights.revision)
        with remote_code_errors(weights.base, trust_remote_code=weights.trust_remote_code):
            model = AutoModelForCausalLM.from_pretrained(weights.base, **kwargs)
        if weights.adapter is not None:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(weights.adapter))
        if not settings.load_in_4bit:
            model.to(device)
        model.eval()
        return cls(model, prompting, settings)

    def generate(self, prompts: Sequence[list[int]], max_new_tokens: int, seed: int) -> list[GenOut]:
        """One left-padded batch; returns the decoded continuations cut at the first stop token."""
        import torch
        from transformers import GenerationConfig

        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, p in enumerate(prompts):
            ids[i, width - len(p) :] = torch.tensor(p, dtype=torch.long)
            mask[i, width - len(p) :] = 1
        sampling = self.decoding.mode == "sampling"
        config = GenerationConfig(
            max_new_tokens=max_new_tokens,
            do_sample=sampling,
            temperature=self.decoding.temperature if sampling else None,
            top_p=self.decoding.top_p if sampling else None,
            top_k=self.decoding.top_k if sampling else None,
            repetition_penalty=self.decoding.repetition_penalty,
            eos_token_id=self.stop_ids,
            pad_token_id=self.pad_id,
        )
        if sampling:
            torch.manual_seed(seed)
        device = next(self.model.parameters()).device
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=ids.to(device), attention_mask=mask.to(device), generation_config=config
            )
        results = []
        stops = set(self.stop_ids)
        for row in out[:, width:].tolist():
            cut = next((i for i, t in enumerate(row) if t in stops), len(row))
            text = self.tokenizer.decode(row[:cut], skip_special_tokens=True)
            results.append(GenOut(text.strip(), cut))
        return results


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
        new = [
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


def make_generator(weights: Weights, settings: EvalSettings, prompting: Prompting | None = None) -> Generator:
    """The backend the settings ask for; ``auto`` takes vLLM where it imports and a GPU is present."""
    backend = settings.backend
    if backend == "auto":
        from taiyi_core.evaluate.vllm_backend import vllm_usable

        backend = "vllm" if vllm_usable() else "hf"
    if backend == "vllm":
        from taiyi_core.evaluate.vllm_backend import VLLMGenerator

        return VLLMGenerator(weights, settings, prompting)
    return HFGenerator.load(weights, settings, prompting)
