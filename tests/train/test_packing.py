"""Packing keeps samples apart: packed and unpacked batches give the same per-sample loss."""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F
from conftest import sft_rows
from transformers import AutoModelForCausalLM, AutoTokenizer

from taiyi_core.train.chat_format import IGNORE, make_encoder
from taiyi_core.train.packing import (
    PackedCollator,
    PackedRows,
    PaddedCollator,
    pack_best_fit,
    packing_supported,
)

TOL = 1e-5  # fp32 on CPU; packed vs separate forward differ only by summation order


def test_best_fit_bins_are_full_and_complete():
    rng = random.Random(0)
    lengths = [rng.randint(1, 50) for _ in range(200)]
    bins = pack_best_fit(lengths, 64)
    flat = sorted(i for b in bins for i in b)
    assert flat == list(range(200))
    assert all(sum(lengths[i] for i in b) <= 64 for b in bins)
    lower = -(-sum(lengths) // 64)
    assert len(bins) <= lower * 1.1 + 1  # best-fit decreasing is near the bound here
    with pytest.raises(ValueError, match="more than the row capacity"):
        pack_best_fit([65], 64)


def _per_sample_losses(logits, labels, seg_ids):
    """Mean CE over the trained tokens of each segment (labels shifted as in causal LM loss)."""
    logits, labels, seg_ids = logits[:, :-1], labels[:, 1:], seg_ids[:, 1:]
    ce = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="none", ignore_index=IGNORE
    ).view(labels.shape)
    out = {}
    for key in torch.unique(seg_ids).tolist():
        m = (seg_ids == key) & (labels != IGNORE)
        if m.any():
            out[key] = (ce[m].sum() / m.sum()).item()
    return out


@pytest.mark.parametrize(
    "attn",
    ["sdpa", "eager", pytest.param("flex_attention", marks=pytest.mark.slow)],  # flex compiles: ~40 s cold
)
def test_packed_equals_unpacked_per_sample_loss(tiny_model, attn):
    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, attn_implementation=attn).eval()
    model.config.use_cache = False
    assert packing_supported(model)[0] == "position_ids"
    encode = make_encoder(tok, "taiyi1", 64)
    samples = []
    for row in sft_rows(9, seed=3, multi_turn=True):
        e = encode(row["messages"], row["id"])
        samples.append({"input_ids": e.input_ids, "labels": e.labels})
    bins = pack_best_fit([len(s["input_ids"]) for s in samples], 96)
    assert any(len(b) > 1 for b in bins)
    rows = PackedRows(samples, bins)
    batch = PackedCollator(pad_id=tok.pad_token_id)([rows[i] for i in range(len(rows))])
    # segment id per token: (row, sample) -> global sample index; padding segments get -1
    seg = torch.full_like(batch["input_ids"], -1)
    for r, b in enumerate(bins):
        start = 0
        for i in b:
            n = len(samples[i]["input_ids"])
            seg[r, start : start + n] = i
            start += n
    with torch.no_grad():
        packed = model(input_ids=batch["input_ids"], position_ids=batch["position_ids"]).logits
        packed_losses = _per_sample_losses(packed, batch["labels"], seg)
        # baseline: each sample alone, and a right-padded batch with an attention mask
        padded = PaddedCollator(pad_id=tok.pad_token_id)(samples)
        pl = model(input_ids=padded["input_ids"], attention_mask=padded["attention_mask"]).logits
        pseg = torch.arange(len(samples)).unsqueeze(1).expand_as(padded["input_ids"])
        padded_losses = _per_sample_losses(pl, padded["labels"], pseg)
        # negative control: the same packed rows WITHOUT position resets leak attention across samples
        leaky = model(input_ids=batch["input_ids"]).logits
        leaky_losses = _per_sample_losses(leaky, batch["labels"], seg)
    packed_losses.pop(-1, None)
    assert sorted(packed_losses) == list(range(len(samples)))
    for i in range(len(samples)):
        assert abs(packed_losses[i] - padded_losses[i]) < TOL, (i, packed_losses[i], padded_losses[i])
    assert max(abs(leaky_losses[i] - padded_losses[i]) for i in range(len(samples))) > 1e-3


def _reference_varlen_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kw):
    """What flash attention computes, in plain torch: causal attention within each cu_seq_lens segment,
    or over the whole row when no boundaries are given (flash_fn for a batch of several rows)."""
    _reference_varlen_attention.calls.append("cu_seq_lens_q" in kw)
    groups = query.shape[1] // key.shape[1]
    key, value = key.repeat_interleave(groups, 1), value.repeat_interleave(groups, 1)
    bounds = kw.get("cu_seq_lens_q")
    if bounds is None:
        bounds = torch.tensor([0, query.shape[2]])
    else:
        assert query.shape[0] == 1, "varlen boundaries need the batch flattened into one row"
        assert kw["max_length_q"] == int(bounds.diff().max())
    out = torch.cat(
        [
            F.scaled_dot_product_attention(
                query[:, :, a:b], key[:, :, a:b], value[:, :, a:b], is_causal=True, scale=scaling
            )
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
        ],
        dim=2,
    )
    return out.transpose(1, 2).contiguous(), None


_reference_varlen_attention.calls = []
REF_ATTN = "taiyi_reference_varlen"


@pytest.fixture
def reference_varlen(monkeypatch):
    """Register the reference as an attention implementation with flash attention's mask (None)."""
    from transformers import AttentionInterface, AttentionMaskInterface
    from transformers.masking_utils import flash_attention_mask

    from taiyi_core.train import packing

    AttentionInterface.register(REF_ATTN, _reference_varlen_attention)
    AttentionMaskInterface.register(REF_ATTN, flash_attention_mask)
    monkeypatch.setitem(packing.PACKING_MODES, REF_ATTN, "varlen")
    _reference_varlen_attention.calls.clear()
    return _reference_varlen_attention


def _encoded_samples(tok, n=9):
    encode = make_encoder(tok, "taiyi1", 64)
    out = []
    for row in sft_rows(n, seed=3, multi_turn=True):
        e = encode(row["messages"], row["id"])
        out.append({"input_ids": e.input_ids, "labels": e.labels})
    return out


def test_varlen_collator_flattens_with_exact_boundaries():
    samples = [{"input_ids": [7] * n, "labels": [IGNORE] + [5] * (n - 1)} for n in (3, 5, 2, 4)]
    bins = pack_best_fit([3, 5, 2, 4], 7)  # two rows: [5, 2] and [4, 3]
    rows = PackedRows(samples, bins)
    batch = PackedCollator(pad_id=0, varlen=True)([rows[i] for i in range(len(rows))])
    lengths = [len(samples[i]["input_ids"]) for b in bins for i in b]
    assert batch["input_ids"].shape == (1, 14)  # one row, no padding
    assert batch["cu_seq_lens_q"].tolist() == [0, *torch.tensor(lengths).cumsum(0).tolist()]
    assert batch["cu_seq_lens_q"].dtype == torch.int32 and batch["cu_seq_lens_k"] is batch["cu_seq_lens_q"]
    assert batch["max_length_q"] == batch["max_length_k"] == 5
    assert batch["position_ids"][0].tolist() == [p for n in lengths for p in range(n)]
    starts = batch["cu_seq_lens_q"][:-1].long()
    assert (batch["labels"][0, starts] == IGNORE).all()  # no sample learns the next one's first token


def test_flash_attention_gets_boundaries_and_samples_stay_apart(tiny_model, reference_varlen):
    """A reference varlen attention (flash attention's maths) through a PEFT model: packed per-sample
    losses equal the unpacked ones; the same rows batched as flash_fn sees them without boundaries leak."""
    from peft import LoraConfig, get_peft_model

    tok = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, attn_implementation=REF_ATTN)
    model = get_peft_model(model, LoraConfig(r=4, target_modules="all-linear")).eval()
    assert packing_supported(model) == ("varlen", f"varlen packing with {REF_ATTN}")
    samples = _encoded_samples(tok)
    bins = pack_best_fit([len(s["input_ids"]) for s in samples], 96)
    rows = PackedRows(samples, bins)
    flat = PackedCollator(pad_id=tok.pad_token_id, varlen=True)([rows[i] for i in range(len(rows))])
    seg = torch.repeat_interleave(torch.arange(len(flat["cu_seq_lens_q"]) - 1), flat["cu_seq_lens_q"].diff())
    order = [i for b in bins for i in b]  # segment k of the flat row is sample order[k]
    padded = PaddedCollator(pad_id=tok.pad_token_id)(samples)
    with torch.no_grad():
        packed = _per_sample_losses(
            model(**{k: v for k, v in flat.items() if k != "labels"}).logits, flat["labels"], seg[None]
        )
        assert reference_varlen.calls and all(reference_varlen.calls)
        model.base_model.model.config._attn_implementation = "sdpa"  # baseline: each sample padded, masked
        alone = _per_sample_losses(
            model(input_ids=padded["input_ids"], attention_mask=padded["attention_mask"]).logits,
            padded["labels"],
            torch.arange(len(samples)).unsqueeze(1).expand_as(padded["input_ids"]),
        )
        model.base_model.model.config._attn_implementation = REF_ATTN
        rowwise = PackedCollator(pad_id=tok.pad_token_id)([rows[i] for i in range(len(rows))])
        leaky_logits = model(input_ids=rowwise["input_ids"], position_ids=rowwise["position_ids"]).logits
    for k, i in enumerate(order):
        assert abs(packed[k] - alone[i]) < TOL, (i, packed[k], alone[i])
    row_seg = torch.full_like(rowwise["input_ids"], -1)
    for r, b in enumerate(bins):
        start = 0
        for i in b:
            row_seg[r, start : start + len(samples[i]["input_ids"])] = i
            start += len(samples[i]["input_ids"])
    leaky = _per_sample_losses(leaky_logits, rowwise["labels"], row_seg)
    assert max(abs(leaky[i] - alone[i]) for i in range(len(samples))) > 1e-3  # the bug the boundaries fix


def test_varlen_boundaries_reach_attention_through_the_trainer(run, tiny_model, reference_varlen):
    """One training stage on the suite's real path with the flash-attention packing mode."""
    from conftest import make_preset

    import taiyi_core.train.trainer as trainer
    from taiyi_core.train.config import train_settings
    from taiyi_core.train.jobs import train_stage

    # gradient checkpointing on, as in the presets: the boundaries must survive the checkpointed layers
    preset = make_preset(tiny_model, gradient_checkpointing=True, stages={1: {"epochs": 1, "max_steps": 2}})
    assert train_settings(preset).packing

    real_load = trainer.load_base_model

    def load_with_reference(spec, settings, eff):  # train.attn_implementation, past its Literal check
        return real_load(spec, settings.model_copy(update={"attn_implementation": REF_ATTN}), eff)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(trainer, "load_base_model", load_with_reference)
        out = train_stage(run, preset, stage=1)
    assert out["status"] == "done" and out["effective"]["packing"]
    assert out["effective"]["packing_note"] == f"varlen packing with {REF_ATTN}"
    assert reference_varlen.calls and all(reference_varlen.calls)
    assert out["packing_efficiency"] == 1.0  # one flat row per batch: no padding at all


def test_attention_implementations_and_packing_modes_agree():
    from typing import get_args

    from taiyi_core.train.config import AttnImplementation
    from taiyi_core.train.packing import PACKING_MODES

    assert set(get_args(AttnImplementation)) == set(PACKING_MODES)


def test_packing_efficiency_accounting(tiny_model):
    samples = [{"input_ids": [1] * n, "labels": [IGNORE] + [1] * (n - 1)} for n in (10, 20, 30, 40)]
    padded = PaddedCollator(pad_id=0)
    padded(samples)
    assert padded.efficiency == pytest.approx(100 / 160)
    bins = pack_best_fit([10, 20, 30, 40], 50)
    rows = PackedRows(samples, bins)
    packed = PackedCollator(pad_id=0)
    batch = packed([rows[i] for i in range(len(rows))])
    assert packed.efficiency == pytest.approx(100 / batch["input_ids"].numel())
    assert packed.efficiency > padded.efficiency
