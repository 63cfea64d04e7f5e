"""The Hugging Face backend: batched, left-padded generation with transformers (the tested one)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from taiyi_core.evaluate.backends.base import GenOut, PromptFormatter
from taiyi_core.evaluate.config import EvalSettings
from taiyi_core.evaluate.prompting import Prompting, resolve_prompting
from taiyi_core.evaluate.weights import Weights


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
