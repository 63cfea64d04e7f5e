"""vLLM backend for GPU clusters (LoRA through ``LoRARequest``).

UNTESTED HERE: vLLM is not installed on the development machine (CPU only). The code follows the
vLLM offline-inference API (``LLM``, ``SamplingParams``, ``LoRARequest``, token-id prompts) and is
only imported when ``import vllm`` works and a GPU is present; the HF backend is the tested one.
Prompts are tokenised by our own formatter, and the prompt format, stop ids and tokenizer revision
come from ``prompting.resolve_prompting``, so both backends see exactly the same token ids and stop
on the same ones.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from typing import Any

from taiyi_core.evaluate.backends.base import GenOut, PromptFormatter
from taiyi_core.evaluate.config import EvalSettings
from taiyi_core.evaluate.prompting import Prompting, load_tokenizer, resolve_prompting
from taiyi_core.evaluate.weights import Weights


def vllm_usable() -> bool:
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


class VLLMGenerator:
    backend = "vllm"

    def __init__(self, weights: Weights, settings: EvalSettings, prompting: Prompting | None = None):
        from vllm import LLM
        from vllm.lora.request import LoRARequest

        from taiyi_core.models.remote_code import guard_model

        guard_model(weights.base, trust_remote_code=weights.trust_remote_code, revision=weights.revision)
        self.decoding = settings.decoding
        self.chunk_size = settings.batch_size * 16  # vLLM batches internally; this is the resume granularity
        prompting = prompting or resolve_prompting(weights, settings, load_tokenizer(weights))
        self.prompting = prompting
        self.format = PromptFormatter(
            prompting.tokenizer, prompting.prompt_format, settings.max_prompt_tokens, prompting.eod_token
        )
        self.stop_ids = list(prompting.stop_ids)
        kwargs: dict[str, Any] = {
            "model": weights.base,
            "tokenizer": weights.tokenizer,
            "tokenizer_revision": weights.tokenizer_revision,
            "trust_remote_code": weights.trust_remote_code,
            "revision": weights.revision,
            "dtype": "auto" if settings.dtype == "auto" else settings.dtype,
            "seed": settings.decoding.seed,
        }
        self.lora = None
        if weights.adapter is not None:
            rank = json.loads((weights.adapter / "adapter_config.json").read_text())["r"]
            kwargs.update(enable_lora=True, max_lora_rank=max(16, int(rank)))
            self.lora = LoRARequest("eval-adapter", 1, str(weights.adapter))
        self.llm = LLM(**kwargs)

    def generate(self, prompts: Sequence[list[int]], max_new_tokens: int, seed: int) -> list[GenOut]:
        from vllm import SamplingParams

        sampling = self.decoding.mode == "sampling"
        extra = {"top_k": self.decoding.top_k} if sampling and self.decoding.top_k else {}
        params = SamplingParams(
            **extra,
            max_tokens=max_new_tokens,
            temperature=self.decoding.temperature if sampling else 0.0,
            top_p=self.decoding.top_p if sampling else 1.0,
            repetition_penalty=self.decoding.repetition_penalty,
            seed=seed if sampling else None,
            stop_token_ids=self.stop_ids,
            skip_special_tokens=True,
        )
        outs = self.llm.generate(
            [{"prompt_token_ids": list(p)} for p in prompts], params, lora_request=self.lora, use_tqdm=False
        )
        return [GenOut(o.outputs[0].text.strip(), len(o.outputs[0].token_ids)) for o in outs]
