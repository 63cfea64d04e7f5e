"""Evaluation generation throughput: batched vs one-by-one (and vLLM vs HF batched where vLLM runs).

Same model, same prompts, greedy decoding, the suite's own generation code. Prints generated
tokens/s of each arm and the ratio. Default: the tiny CPU model (built into a temp folder) and 32
prompts, well under 2 minutes on a laptop CPU. ``--model PATH`` benchmarks a real model (GPU node).

    .venv/bin/python bench/eval_throughput.py [--model PATH] [--n 32] [--batch-size 16] [--max-new-tokens 32]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from taiyi_core.evaluate.backends.hf import HFGenerator
from taiyi_core.evaluate.config import EvalSettings
from taiyi_core.evaluate.generate import generate_all
from taiyi_core.evaluate.io import EvalRow
from taiyi_core.evaluate.weights import Weights

_WORD_LINES = (
    "naloxone clonidine hypertensive patients lidocaine cardiac asystole cisplatin nephrotoxicity BRCA1",
    "breast cancer FBN1 Marfan syndrome warfarin mitotane anticoagulants fever cough",
)
WORDS = [w for line in _WORD_LINES for w in line.split(" ")]


def prompts(n: int, seed: int = 0) -> list[EvalRow]:
    """NER-style prompts of varied length (8-120 words), like an eval set's spread."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 120)))
        rows.append(
            EvalRow(
                f"p{i}",
                "bench",
                "ner",
                "en",
                f"Extract the chemical and disease entities from the following text:\n{text}",
                "None",
            )
        )
    return rows


def arm(
    gen: HFGenerator | object, rows: list[EvalRow], chunk: int, max_new: int, settings: EvalSettings
) -> dict:
    gen.chunk_size = chunk  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    out = generate_all(rows, gen, max_new, settings.decoding)  # type: ignore[arg-type]
    seconds = time.perf_counter() - t0
    tokens = sum(r["new_tokens"] for r in out.values())
    return {
        "seconds": round(seconds, 3),
        "tokens": tokens,
        "tokens_per_s": round(tokens / seconds, 1),
        "outputs": {k: v["prediction"] for k, v in out.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model folder (default: build the tiny CPU model)")
    ap.add_argument("--adapter", help="PEFT adapter folder on top of --model")
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--prompt-format", default="chat_template", choices=["chat_template", "raw"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    tmp = None
    if args.model is None:
        from taiyi_core.train.tiny import build_tiny_model

        tmp = tempfile.TemporaryDirectory()
        args.model = str(build_tiny_model(Path(tmp.name) / "tiny"))
    weights = Weights(
        args.model,
        args.model,
        Path(args.adapter) if args.adapter else None,
        "adapter" if args.adapter else "base",
    )
    settings = EvalSettings(batch_size=args.batch_size, prompt_format=args.prompt_format)
    rows = prompts(args.n)
    gen = HFGenerator.load(weights, settings)
    arm(gen, rows[:2], 2, 4, settings)  # warm-up
    one = arm(gen, rows, 1, args.max_new_tokens, settings)
    batched = arm(gen, rows, args.batch_size, args.max_new_tokens, settings)
    same = sum(one["outputs"][k] == batched["outputs"][k] for k in one["outputs"])
    result = {
        "model": args.model,
        "device": str(next(gen.model.parameters()).device),
        "prompts": args.n,
        "max_new_tokens": args.max_new_tokens,
        "hf_one_by_one": {k: v for k, v in one.items() if k != "outputs"},
        f"hf_batched_{args.batch_size}": {k: v for k, v in batched.items() if k != "outputs"},
        "ratio_batched_over_one_by_one": round(batched["tokens_per_s"] / one["tokens_per_s"], 2),
        "identical_outputs": f"{same}/{args.n}",
    }
    from taiyi_core.evaluate.backends.vllm import vllm_usable

    if vllm_usable():
        from taiyi_core.evaluate.backends.vllm import VLLMGenerator

        del gen
        vl = arm(VLLMGenerator(weights, settings), rows, args.n, args.max_new_tokens, settings)
        result["vllm"] = {k: v for k, v in vl.items() if k != "outputs"}
        result["ratio_vllm_over_hf_batched"] = round(vl["tokens_per_s"] / batched["tokens_per_s"], 2)
    else:
        result["vllm"] = "not available (needs `import vllm` and a GPU)"
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table(
            title=f"eval generation throughput · {result['device']} · {args.n} prompts · "
            f"{args.max_new_tokens} new tokens max"
        )
        for col in ("arm", "seconds", "generated tokens", "tokens/s"):
            t.add_column(col, justify="left" if col == "arm" else "right")
        for name in ("hf_one_by_one", f"hf_batched_{args.batch_size}", "vllm"):
            r = result.get(name)
            if isinstance(r, dict):
                t.add_row(name, str(r["seconds"]), str(r["tokens"]), str(r["tokens_per_s"]))
        Console().print(t)
        print(
            f"batched / one-by-one: {result['ratio_batched_over_one_by_one']}x "
            f"(identical greedy outputs: {result['identical_outputs']})"
        )
        if "ratio_vllm_over_hf_batched" in result:
            print(f"vLLM / HF batched: {result['ratio_vllm_over_hf_batched']}x")
        else:
            print(f"vLLM: {result['vllm']}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
