#!/usr/bin/env bash
# Build the GPU image: containers/taiyi.sif from containers/taiyi.def (what `make container` runs).
#
#   containers/build.sh [OUTPUT.sif]        TAIYI_BUILD_DRY_RUN=1 prints the command instead.
#
# Needs Apptainer >= 1.2 (or SingularityCE >= 4.0) for --build-arg; uses --fakeroot when not root.
# The definition and lock are validated first (containers/check.py). %test needs a GPU:
# on a machine without one the build skips it (--notest); run `apptainer test --nv IMAGE` on a
# GPU node afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
DEF=containers/taiyi.def
OUT=${1:-containers/taiyi.sif}

runtime=""
for candidate in apptainer singularity; do
  if command -v "$candidate" >/dev/null 2>&1; then runtime=$candidate; break; fi
done
if [ -z "$runtime" ]; then
  cat >&2 <<MSG
build.sh: neither 'apptainer' nor 'singularity' is on PATH, so the image cannot be built here.
  Build it where Apptainer >= 1.2 is installed (on many clusters: 'module load apptainer' on a
  login or build node), then copy $OUT back, or point your profile's container.image at it.
MSG
  exit 3
fi

version=$("$runtime" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+' | head -1 || true)
major=${version%%.*}; minor=${version#*.}
if [ -z "$version" ] \
  || { [ "$runtime" = apptainer ] && { [ "$major" -lt 1 ] || { [ "$major" -eq 1 ] && [ "$minor" -lt 2 ]; }; }; } \
  || { [ "$runtime" = singularity ] && [ "$major" -lt 4 ]; }; then
  echo "build.sh: $runtime ${version:-(unknown version)} is too old: --build-arg needs Apptainer >= 1.2 or SingularityCE >= 4.0" >&2
  exit 3
fi

python=.venv/bin/python
[ -x "$python" ] || python=python3
"$python" containers/check.py "$DEF" containers/requirements.lock >&2 || {
  echo "build.sh: fix the findings above before building" >&2; exit 4; }

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="$commit-dirty"
fi

args=(build --force --build-arg "GIT_COMMIT=$commit")
if [ "$(id -u)" -ne 0 ]; then args+=(--fakeroot); fi
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  args+=(--nv)
else
  args+=(--notest)
  echo "build.sh: no GPU here: skipping %test; afterwards run on a GPU node: $runtime test --nv $OUT" >&2
fi
args+=("$OUT" "$DEF")

if [ "${TAIYI_BUILD_DRY_RUN:-0}" = 1 ]; then
  printf '%q ' "$runtime" "${args[@]}"; echo
  exit 0
fi
echo "+ $runtime ${args[*]}" >&2
exec "$runtime" "${args[@]}"
