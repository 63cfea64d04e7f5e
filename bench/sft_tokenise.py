"""Stage tokenisation with a real 152k-token tokenizer (a model kit's): what a stage spends before step 1.

Two comparisons, on the same synthetic bilingual multi-turn conversations:
  fingerprint  ``data.tokenize_sft`` as it is (it names the datasets cache itself) vs the previous
               behaviour, where ``datasets`` fingerprinted the map function by dill-pickling the
               tokenizer it closes over (simulated exactly: the same call without ``new_fingerprint``);
  masking      ``chat_format`` encoding with the assistant-only mask (template render + one render per
               assistant turn + offsets) vs ``apply_chat_template(tokenize=True)`` alone (no mask: the
               lower bound any masking method starts from).
Printed: seconds and samples/s of each arm and the ratios.

    .venv/bin/python bench/sft_tokenise.py                         # Qwen2.5-7B-Instruct kit, 2,000 samples
    .venv/bin/python bench/sft_tokenise.py --kit qwen3-8b --samples 500
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

KITS = Path(__file__).resolve().parents[2] / "shared" / "models"
EN = ["Naloxone reverses the effect of clonidine.", "BRCA1 is associated with breast cancer risk."]
ZH = ["患者出现发热、咳嗽、呼吸困难等症状。", "糖尿病是一种慢性代谢性疾病。"]


def conversations(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        turns = []
        for _ in range(rng.randint(1, 3)):
            text = rng.choice(EN + ZH)
            turns += [
                {"role": "user", "content": f"Extract the entities: {text} ({i})"},
                {"role": "assistant", "content": f"entities: {text[: rng.randint(5, len(text))]}"},
            ]
        rows.append({"id": f"b{i}", "messages": turns})
    return rows


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    import datasets
    from transformers import AutoTokenizer

    from taiyi_core.train.chat_format import make_encoder
    from taiyi_core.train.data import tokenize_sft

    ap = argparse.ArgumentParser()
    ap.add_argument("--kit", default="qwen2.5-7b-instruct")
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--tokenizer", help="a tokenizer folder instead of a kit (e.g. a converted Qwen-7B)")
    args = ap.parse_args()
    ap_path = Path(args.tokenizer) if args.tokenizer else KITS / args.kit
    tok = AutoTokenizer.from_pretrained(ap_path)
    rows = conversations(args.samples)
    ds = datasets.Dataset.from_list(rows)
    fmt = "chat_template" if tok.chat_template else "taiyi1"  # a converted Qwen-7B has no template
    print(f"{ap_path.name}: {len(tok)} tokens; {len(rows)} conversations; format {fmt}")

    real_map = datasets.Dataset.map

    def map_without_our_fingerprint(self, *a, **kw):
        kw.pop("new_fingerprint", None)
        return real_map(self, *a, **kw)

    datasets.Dataset.map = map_without_our_fingerprint
    try:
        base_s, (_, base_stats) = timed(lambda: tokenize_sft(ds, tok, fmt, 1024, "<|endoftext|>"))
    finally:
        datasets.Dataset.map = real_map
    ours_s, (_, ours_stats) = timed(lambda: tokenize_sft(ds, tok, fmt, 1024, "<|endoftext|>"))
    assert base_stats == ours_stats, (base_stats, ours_stats)
    print(f"fingerprint  baseline (datasets hashes the tokenizer) {base_s:7.2f} s")
    print(
        f"             ours (own fingerprint)                  {ours_s:7.2f} s   ratio {base_s / ours_s:.1f}x"
    )

    if fmt != "chat_template":
        return
    encode = make_encoder(tok, "chat_template", 1024)
    msgs = [r["messages"] for r in rows]
    plain_s, _ = timed(lambda: [tok.apply_chat_template(m, tokenize=True) for m in msgs])
    mask_s, _ = timed(lambda: [encode(m, "b") for m in msgs])
    n = len(msgs)
    print(f"masking      apply_chat_template only (no mask) {plain_s:7.2f} s  {n / plain_s:8.0f} samples/s")
    print(
        f"             ours (assistant-only labels)     {mask_s:7.2f} s  {n / mask_s:8.0f} samples/s"
        f"   cost {mask_s / plain_s:.2f}x"
    )


if __name__ == "__main__":
    main()
