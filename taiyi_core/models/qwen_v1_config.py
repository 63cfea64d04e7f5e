"""Qwen-7B (v1) config and generation config -> transformers' native Qwen2 ones.

Qwen-v1's decoder is the Qwen2 architecture with multi-head attention (see qwen_v1_weights for the
tensor names). Every field of a v1 ``config.json`` is accounted for here: mapped, checked to hold a
value the native model reproduces, or dropped with the reason recorded in ``CONVERTED.json``. An
unknown field stops the conversion (it could change the maths) instead of being lost silently.
"""

from __future__ import annotations

from typing import Any

QWEN_V1_MODEL_TYPE = "qwen"
QWEN_V1_ARCHITECTURE = "QWenLMHeadModel"


class ConvertError(ValueError):
    """The source is not a Qwen-v1 checkpoint the converter can map exactly (one line, names the file/key)."""


# v1 field -> native Qwen2 field, value unchanged.
RENAMED = {
    "vocab_size": "vocab_size",
    "hidden_size": "hidden_size",
    "num_hidden_layers": "num_hidden_layers",
    "num_attention_heads": "num_attention_heads",
    "layer_norm_epsilon": "rms_norm_eps",
    "initializer_range": "initializer_range",
    "attn_dropout_prob": "attention_dropout",
    "tie_word_embeddings": "tie_word_embeddings",
    "use_cache": "use_cache",
}

# v1 fields whose value must be this for the native model to compute the same function.
REQUIRED = {
    "rotary_pct": 1.0,  # rotary on every channel (Qwen2 has no partial rotary)
    "scale_attn_weights": True,  # scores / sqrt(head_dim)
    "no_bias": True,  # bias on the fused q/k/v projection only, as Qwen2
}

# v1 fields the native model does not need, and why (recorded in CONVERTED.json).
DROPPED = {
    "kv_channels": "head size; must equal hidden_size / num_attention_heads (checked)",
    "intermediate_size": "v1 stores twice the MLP width; mapped to intermediate_size / 2",
    "rotary_emb_base": "mapped to rope_parameters.rope_theta",
    "seq_length": "mapped to max_position_embeddings (the native model equals v1 up to this length)",
    "max_position_embeddings": "v1 reaches it only through dynamic NTK beyond seq_length (not native)",
    "use_dynamic_ntk": "v1 rescales the rotary base only for sequences longer than seq_length",
    "use_logn_attn": "v1 scales queries by log_seq_length(position) only beyond seq_length",
    "emb_dropout_prob": "dropout after the embedding in training; Qwen2 has none (0.0 in the releases)",
    "bf16": "v1 load-time precision flag; the native dtype is the weights' dtype",
    "fp16": "v1 load-time precision flag; the native dtype is the weights' dtype",
    "fp32": "v1 load-time precision flag; the native dtype is the weights' dtype",
    "use_flash_attn": "v1 kernel choice; native: attn_implementation at load time",
    "onnx_safe": "v1 export switch",
    "use_cache_quantization": "v1 int8 KV-cache option (inference only)",
    "use_cache_kernel": "v1 CUDA kernel for the int8 KV cache (inference only)",
    "softmax_in_fp32": "v1 numerics switch for the int8 KV cache (inference only)",
    "model_type": "qwen -> qwen2",
    "architectures": "QWenLMHeadModel -> Qwen2ForCausalLM",
    "auto_map": "remote code, not needed any more",
    "tokenizer_class": "QWenTokenizer -> the fast tokenizer written beside it",
}

# Hugging Face bookkeeping a saved config may carry (transformers 4.x and 5.x); not architecture.
HF_BOOKKEEPING = frozenset(
    {
        "_name_or_path", "_commit_hash", "transformers_version", "torch_dtype", "dtype", "use_bfloat16",
        "return_dict", "output_hidden_states", "output_attentions", "torchscript", "tf_legacy_loss",
        "pruned_heads", "chunk_size_feed_forward", "is_encoder_decoder", "is_decoder",
        "cross_attention_hidden_size", "add_cross_attention", "tie_encoder_decoder", "max_length",
        "min_length", "do_sample", "early_stopping", "num_beams", "num_beam_groups", "diversity_penalty",
        "temperature", "top_k", "top_p", "typical_p", "repetition_penalty", "length_penalty",
        "no_repeat_ngram_size", "encoder_no_repeat_ngram_size", "bad_words_ids", "num_return_sequences",
        "output_scores", "return_dict_in_generate", "forced_bos_token_id", "forced_eos_token_id",
        "remove_invalid_values", "exponential_decay_length_penalty", "suppress_tokens",
        "begin_suppress_tokens", "finetuning_task", "id2label", "label2id", "prefix", "bos_token_id",
        "pad_token_id", "eos_token_id", "sep_token_id", "decoder_start_token_id", "task_specific_params",
        "problem_type", "quantization_config",
    }
)  # fmt: skip


def is_qwen_v1(config: dict[str, Any]) -> bool:
    return config.get("model_type") == QWEN_V1_MODEL_TYPE


def check_qwen_v1(config: dict[str, Any], where: str) -> None:
    if not is_qwen_v1(config):
        raise ConvertError(
            f"{where}: model_type is {config.get('model_type')!r}, expected {QWEN_V1_MODEL_TYPE!r} "
            "(a Qwen-7B v1 checkpoint such as Qwen/Qwen-7B or Taiyi-LLM; other models need no conversion)"
        )


def native_config(
    v1: dict[str, Any], *, eos_id: int, pad_id: int | None, dtype: str, where: str
) -> dict[str, Any]:
    """The Qwen2 ``config.json`` for a v1 config; ``where`` names the file in error messages."""
    check_qwen_v1(v1, where)
    unknown = sorted(set(v1) - set(RENAMED) - set(REQUIRED) - set(DROPPED) - HF_BOOKKEEPING)
    if unknown:
        raise ConvertError(f"{where}: unknown Qwen-v1 config keys {unknown}; the converter maps none of them")
    for key, value in REQUIRED.items():
        if key in v1 and v1[key] != value:
            raise ConvertError(f"{where}: {key} is {v1[key]!r}; only {value!r} maps onto Qwen2 exactly")
    hidden, heads = int(v1["hidden_size"]), int(v1["num_attention_heads"])
    if "kv_channels" in v1 and int(v1["kv_channels"]) * heads != hidden:
        raise ConvertError(
            f"{where}: kv_channels {v1['kv_channels']} x num_attention_heads {heads} != hidden_size {hidden}"
        )
    if int(v1["intermediate_size"]) % 2:
        raise ConvertError(f"{where}: intermediate_size {v1['intermediate_size']} is odd (v1 stores 2 x MLP)")
    if float(v1.get("emb_dropout_prob", 0.0)) != 0.0:
        raise ConvertError(f"{where}: emb_dropout_prob {v1['emb_dropout_prob']} != 0 (Qwen2 has none)")
    cfg: dict[str, Any] = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"}
    cfg.update({new: v1[old] for old, new in RENAMED.items() if old in v1})
    seq_length = int(v1.get("seq_length", v1.get("max_position_embeddings", 8192)))
    cfg.update(
        num_key_value_heads=heads,  # v1 is multi-head attention
        intermediate_size=int(v1["intermediate_size"]) // 2,
        hidden_act="silu",
        max_position_embeddings=seq_length,
        rope_parameters={"rope_type": "default", "rope_theta": float(v1.get("rotary_emb_base", 10000))},
        use_sliding_window=False,
        sliding_window=None,
        max_window_layers=int(v1["num_hidden_layers"]),
        bos_token_id=None,  # v1 prepends nothing
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        dtype=dtype,
    )
    return cfg


def native_generation_config(v1: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(native generation config, what was dropped and why). Single-token stop words become eos ids."""
    gen = {k: v for k, v in v1.items() if k not in {"chat_format", "stop_words_ids", "transformers_version"}}
    eos = gen.get("eos_token_id")
    eos_ids = list(eos) if isinstance(eos, list) else ([eos] if eos is not None else [])
    dropped: dict[str, Any] = {}
    multi: list[list[int]] = []
    for words in v1.get("stop_words_ids") or []:
        if len(words) == 1:
            if words[0] not in eos_ids:
                eos_ids.append(words[0])
        else:
            multi.append(words)
    if eos_ids:
        gen["eos_token_id"] = eos_ids[0] if len(eos_ids) == 1 else eos_ids
    if multi:
        dropped["stop_words_ids"] = {"value": multi, "why": "multi-token stop words; use stop_strings"}
    if "chat_format" in v1:
        dropped["chat_format"] = {
            "value": v1["chat_format"],
            "why": "v1 chat() helper's prompt format; the suite's preset names its own format",
        }
    # top_k 0 stays: "no top-k filter" in both (dropping it would mean transformers' default, 50)
    return gen, dropped
