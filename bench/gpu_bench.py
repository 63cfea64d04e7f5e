"""GPU numbers for the paper's recipe: QLoRA training (padded vs packed), generation (batched vs one by one).

What runs is the suite's own code: the model is loaded by ``train.trainer.load_base_model`` (NF4 +
double quantisation, bf16 compute, gradient checkpointing) and wrapped by ``attach_lora`` (r=64,
all linear layers), batches come from ``train.packing``'s collators, exactly as a stage does. Only the
loop is written here (so warm-up and timed steps are separate and nothing else is timed). The model
is a random-init Qwen2 of the paper's shape (Qwen-7B: hidden 4096, 32 layers, 32 heads, MLP 11008,
vocab 151,936), saved to a scratch folder in bf16 and reloaded through the real loading path.

MFU. Tokens are real (non-padding) tokens; N is the dense parameter count of the base model.
``mfu_6n`` uses 6N FLOPs per token, the usual convention (forward 2N + backward 4N), so it compares
with published figures. For this recipe 6N is also what the GPU really computes per token, for another
reason: the base is frozen (no weight gradients, saving 2N) but gradient checkpointing recomputes the
forward (adding 2N): forward 2N + recompute 2N + input gradients 2N. Counting only useful model FLOPs
(4N: no recompute) would give 2/3 of ``mfu_6n``. ``mfu_6n_attn`` adds attention, 12 * layers * hidden
FLOPs per (token, attended token) pair, with the context each token really attends to (its own sample
only, when packed). LoRA's own FLOPs (r=64: under 2% of N) are ignored.
Peak bf16 dense TFLOP/s per GPU come from the vendors' data sheets (PEAK_TFLOPS in train_throughput.py).

    bash bench/gpu.sh                 # on one GPU, < 9 minutes, results under bench/out/gpu-<date>/
    bash bench/gpu.sh --tiny          # the same code path on CPU in about a minute
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_throughput import PEAK_TFLOPS, SHAPES, synthetic_samples  # noqa: E402

PACKAGES = ("torch", "transformers", "peft", "bitsandbytes", "accelerate", "trl", "datasets", "flash-attn")
GEN_BATCHES = (1, 16, 64)


def environment() -> dict:
    env: dict = {"python": sys.version.split()[0], "packages": {}, "missing": []}
    for name in PACKAGES:
        try:
            env["packages"][name] = md.version(name)
        except md.PackageNotFoundError:
            env["missing"].append(name)
    if torch.cuda.is_available():
        env["gpu"] = torch.cuda.get_device_name()
        env["cuda"] = torch.version.cuda
        try:
            env["driver"] = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError) as exc:
            env["driver"] = f"unknown ({exc.__class__.__name__})"
    else:
        env["gpu"] = None
    return env


def save_random_model(shape: dict, folder: Path, device: str) -> Path:
    """A random-init Qwen2 of ``shape`` saved in bf16 (fp32 on CPU) for the real loading path."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    cfg = Qwen2Config(
        hidden_size=shape["hidden_size"],
        intermediate_size=shape["intermediate_size"],
        num_hidden_layers=shape["num_hidden_layers"],
        num_attention_heads=shape["num_attention_heads"],
        num_key_value_heads=shape["num_key_value_heads"],
        vocab_size=shape["vocab_size"],
        max_position_embeddings=max(2048, shape["max_length"]),
        tie_word_embeddings=False,
        use_cache=False,
    )
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    torch.manual_seed(0)
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # build in the target dtype: a 7B model in fp32 would need 31 GB first
    try:
        with torch.device(device):
            model = Qwen2ForCausalLM(cfg)
    finally:
        torch.set_default_dtype(default)
    model.save_pretrained(folder, safe_serialization=True)
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return folder


def _settings(shape: dict, quantize: bool):
    from taiyi_core.train.config import TrainSettings

    return TrainSettings(
        quantization={"mode": "nf4" if quantize else "none", "double_quant": True, "compute_dtype": "bf16"},
        lora={"r": 64, "alpha": 16, "dropout": 0.05, "target_modules": "all-linear"},
        per_device_batch=shape["batch"],
        max_length=shape["max_length"],
        gradient_checkpointing=True,
        precision="auto",
    )


def _batches(samples: list[dict], shape: dict, packed: bool) -> tuple[list[dict], float]:
    from taiyi_core.train.packing import PackedCollator, PackedRows, PaddedCollator, pack_best_fit

    bsz = shape["batch"]
    if packed:
        rows = PackedRows(samples, pack_best_fit([len(s["input_ids"]) for s in samples], shape["max_length"]))
        items = [rows[i] for i in range(len(rows))]
        collate = PackedCollator(pad_id=0)
    else:
        items = list(samples)
        collate = PaddedCollator(pad_id=0)
    random.Random(1).shuffle(items)
    batches = [collate(items[j : j + bsz]) for j in range(0, len(items) - bsz + 1, bsz)]
    return batches, collate.efficiency


def _real_tokens(batch: dict) -> int:
    if "attention_mask" in batch:
        return int(batch["attention_mask"].sum())
    # packed rows: padding at a row's end is its own position run; count tokens with a label or
    # that start a sample (first tokens carry -100 by design)
    return int(((batch["labels"] != -100) | (batch["position_ids"] == 0)).sum())


def _attn_context(batch: dict) -> int:
    """Sum over tokens of the number of tokens each attends to (causal, within its own sample)."""
    if "attention_mask" in batch:
        n = batch["attention_mask"].sum(dim=1)
        return int((n * (n + 1) // 2).sum())
    pos = batch["position_ids"]
    return int((pos + 1).sum())


def train_arm(model_dir: Path, shape: dict, packed: bool, warmup: int, steps: int, quantize: bool) -> dict:
    from taiyi_core.config import ModelSpec
    from taiyi_core.train.trainer import attach_lora, load_base_model, resolve_effective

    settings = _settings(shape, quantize)
    eff = resolve_effective(settings)
    device = "cuda" if eff.device == "cuda" else "cpu"
    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    model = attach_lora(
        load_base_model(ModelSpec(name_or_path=str(model_dir)), settings, eff), settings, None
    )
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    if device == "cuda":
        import bitsandbytes as bnb

        opt = bnb.optim.PagedAdamW32bit(trainable, lr=2e-4)  # the recipe's paged_adamw_32bit
    else:
        opt = torch.optim.AdamW(trainable, lr=2e-4)
    dtype = torch.bfloat16 if eff.precision == "bf16" else torch.float16 if eff.precision == "fp16" else None
    need = (warmup + steps) * shape["batch"] * (4 if packed else 1)
    samples = synthetic_samples(need, shape["max_length"], shape["vocab_size"], seed=0)
    batches, efficiency = _batches(samples, shape, packed)
    if len(batches) < warmup + steps:
        raise RuntimeError(f"only {len(batches)} batches for {warmup}+{steps} steps")

    def step(batch: dict) -> float:
        batch = {k: v.to(device) for k, v in batch.items()}
        ctx = (
            torch.autocast(device, dtype=dtype)
            if dtype is not None
            else torch.autocast(device, enabled=False)
        )
        with ctx:
            loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 0.3)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(loss.detach())

    for b in batches[:warmup]:
        step(b)
    if device == "cuda":
        torch.cuda.synchronize()
    timed = batches[warmup : warmup + steps]
    t0 = time.perf_counter()
    losses = [step(b) for b in timed]
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    n_params = sum(p.numel() for p in model.parameters())  # NF4 packs 2 weights per uint8 element
    if quantize:
        n_params = _dense_params(shape)
    real = sum(_real_tokens(b) for b in timed)
    attn = sum(_attn_context(b) for b in timed)
    row = {
        "arm": "packed (ours, sdpa)" if packed else "padded (baseline)",
        "steps_timed": steps,
        "warmup_steps": warmup,
        "seconds": round(seconds, 3),
        "real_tokens": real,
        "tokens_per_s": round(real / seconds, 1),
        "batch_efficiency": round(efficiency, 3),
        "last_loss": round(losses[-1], 4),
        "params": n_params,
        "flops_6n": 6 * n_params * real,
        "flops_attn": 12 * shape["num_hidden_layers"] * shape["hidden_size"] * attn,
        "attn_implementation": getattr(model.config, "_attn_implementation", None),
    }
    if device == "cuda":
        row["peak_mem_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        peak = next((v for k, v in PEAK_TFLOPS.items() if k in torch.cuda.get_device_name()), None)
        if peak:
            row["peak_tflops"] = peak
            row["mfu_6n"] = round(row["flops_6n"] / seconds / (peak * 1e12), 4)
            row["mfu_6n_attn"] = round((row["flops_6n"] + row["flops_attn"]) / seconds / (peak * 1e12), 4)
    model = opt = None  # free the GPU before the next arm
    if device == "cuda":
        torch.cuda.empty_cache()
    return row


def _dense_params(shape: dict) -> int:
    h, i, layers, v = (
        shape["hidden_size"],
        shape["intermediate_size"],
        shape["num_hidden_layers"],
        shape["vocab_size"],
    )
    kv = h * shape["num_key_value_heads"] // shape["num_attention_heads"]
    per_layer = h * h * 2 + h * kv * 2 + (h + 2 * kv) + 3 * h * i + 2 * h
    return layers * per_layer + 2 * v * h + h


def generation(model_dir: Path, shape: dict, new_tokens: int, n_prompts: int) -> list[dict]:
    """Greedy, exactly ``new_tokens`` per prompt (min = max), one by one vs batched (left-padded)."""
    from transformers import AutoModelForCausalLM

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).to(device).eval()
    model.generation_config.pad_token_id = 0
    rng = random.Random(2)
    prompts = [
        [rng.randrange(1, shape["vocab_size"]) for _ in range(rng.randint(32, 256))] for _ in range(n_prompts)
    ]

    def run(batch: list[list[int]]) -> int:
        width = max(map(len, batch))
        ids = torch.tensor([[0] * (width - len(p)) + p for p in batch], device=device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in batch], device=device)
        out = model.generate(
            input_ids=ids,
            attention_mask=mask,
            do_sample=False,
            max_new_tokens=new_tokens,
            min_new_tokens=new_tokens,
        )
        return int(out.shape[0]) * (int(out.shape[1]) - width)

    rows = []
    with torch.inference_mode():
        run(prompts[:1])  # warm-up
        for bsz in GEN_BATCHES:
            subset = prompts[: max(bsz, min(16, n_prompts))] if bsz > 1 else prompts[: min(16, n_prompts)]
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            tokens = sum(run(subset[j : j + bsz]) for j in range(0, len(subset), bsz))
            if device == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - t0
            rows.append(
                {
                    "arm": "one by one" if bsz == 1 else f"batched {bsz}",
                    "prompts": len(subset),
                    "new_tokens_each": new_tokens,
                    "tokens": tokens,
                    "seconds": round(seconds, 3),
                    "tokens_per_s": round(tokens / seconds, 1),
                }
            )
    base = rows[0]["tokens_per_s"]
    for r in rows:
        r["ratio_vs_one_by_one"] = round(r["tokens_per_s"] / base, 2)
    model = None
    return rows


def markdown(report: dict) -> str:
    env = report["environment"]
    lines = [
        f"# GPU bench, {report['started']}, {env.get('gpu') or 'CPU (--tiny)'}",
        "",
        f"shape {report['shape']}; driver {env.get('driver', '-')}; CUDA {env.get('cuda', '-')}; "
        + ", ".join(f"{k} {v}" for k, v in env["packages"].items())
        + (f"; missing: {', '.join(env['missing'])}" if env["missing"] else ""),
        "",
    ]
    if report.get("train"):
        lines += [
            "| training arm | timed steps | seconds | real tokens/s | peak GiB | MFU 6N | MFU 6N+attn |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in report["train"]:
            lines.append(
                f"| {r['arm']} | {r['steps_timed']} | {r['seconds']} | {r['tokens_per_s']} | "
                f"{r.get('peak_mem_gib', '-')} | {r.get('mfu_6n', '-')} | {r.get('mfu_6n_attn', '-')} |"
            )
        if "packed_over_padded" in report:
            lines += ["", f"packed / padded real tokens/s: **{report['packed_over_padded']}x**"]
    if report.get("generation"):
        lines += ["", "| generation arm | prompts | seconds | tokens/s | ratio |", "|---|---|---|---|---|"]
        for r in report["generation"]:
            lines.append(
                f"| {r['arm']} | {r['prompts']} | {r['seconds']} | {r['tokens_per_s']} | "
                f"{r['ratio_vs_one_by_one']}x |"
            )
    for s in report.get("skipped", []):
        lines.append(f"\nskipped: {s}")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tiny", action="store_true", help="tiny shape on CPU: checks the code path")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--parts", default="train,generate")
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--scratch", type=Path, default=None, help="where the random model is saved")
    args = ap.parse_args()
    shape = SHAPES["tiny" if args.tiny else "7b"]
    args.out.mkdir(parents=True, exist_ok=True)
    env = environment()
    report: dict = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "shape": "tiny" if args.tiny else "7b",
        "environment": env,
        "skipped": [],
    }
    cuda = torch.cuda.is_available()
    if not cuda and not args.tiny:
        sys.exit("no CUDA device: run with --tiny on CPU, or on a GPU node")
    quantize = "bitsandbytes" in env["packages"]
    if not quantize:
        report["skipped"].append("NF4 (bitsandbytes missing): training arms run without quantisation")
    parts = set(args.parts.split(","))
    scratch = Path(tempfile.mkdtemp(prefix="taiyi-gpu-bench-", dir=args.scratch))
    try:
        t0 = time.perf_counter()
        model_dir = save_random_model(shape, scratch / "model", "cuda" if cuda else "cpu")
        report["model_build_s"] = round(time.perf_counter() - t0, 1)
        print(f"random {report['shape']} model saved in {report['model_build_s']} s", flush=True)
        warmup = args.warmup if args.warmup is not None else 2
        steps = args.steps if args.steps is not None else (3 if args.tiny else 6)
        if "train" in parts:
            report["train"] = []
            for packed in (False, True):
                row = train_arm(model_dir, shape, packed, warmup, steps, quantize)
                print(json.dumps(row), flush=True)
                report["train"].append(row)
                (args.out / "results.json").write_text(json.dumps(report, indent=2))
            report["packed_over_padded"] = round(
                report["train"][1]["tokens_per_s"] / report["train"][0]["tokens_per_s"], 2
            )
        if "generate" in parts:
            report["generation"] = generation(model_dir, shape, 8 if args.tiny else 64, 64)
            for r in report["generation"]:
                print(json.dumps(r), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        (args.out / "results.json").write_text(json.dumps(report, indent=2))
        (args.out / "results.md").write_text(markdown(report))


if __name__ == "__main__":
    main()
