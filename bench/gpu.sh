#!/usr/bin/env bash
# One prepared GPU benchmark run (issue 16): environment, QLoRA training padded vs packed on a 7B-shaped
# random Qwen2, generation batched vs one by one. Inside 9 minutes on one H100/H200-class GPU.
#   bash bench/gpu.sh [--tiny] [--out DIR]     (--tiny: the same code on CPU, about a minute)
# Wheels for what the machine lacks (bitsandbytes, trl, datasets, ...) can be put in .whl/: they are
# installed into /tmp/site first. Results: DIR/results.json and DIR/results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
tiny=()
out="${OUT:-bench/out}/gpu-$(date +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
  case "$1" in
    --tiny) tiny=(--tiny); shift ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: bash bench/gpu.sh [--tiny] [--out DIR]" >&2; exit 2 ;;
  esac
done
PY="${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}"
if compgen -G ".whl/*.whl" >/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1
echo "== what is here"
"$PY" - <<'PYEOF'
import importlib.util as u
for m in ("torch", "transformers", "peft", "bitsandbytes", "accelerate", "trl", "datasets", "flash_attn"):
    print(f"  {m:14s} {'ok' if u.find_spec(m) else 'MISSING (skipped where needed)'}")
PYEOF
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
mkdir -p "$out"
# Each part under its own time limit so one slow part cannot eat the whole budget.
timeout 420 "$PY" bench/gpu_bench.py "${tiny[@]}" --out "$out" --parts train || echo "training part failed or timed out (rc $?)"
mv "$out/results.json" "$out/train.json" 2>/dev/null || true
mv "$out/results.md" "$out/train.md" 2>/dev/null || true
timeout 150 "$PY" bench/gpu_bench.py "${tiny[@]}" --out "$out" --parts generate || echo "generation part failed or timed out (rc $?)"
mv "$out/results.json" "$out/generate.json" 2>/dev/null || true
mv "$out/results.md" "$out/generate.md" 2>/dev/null || true
cat "$out"/*.md
echo "results in $out"
