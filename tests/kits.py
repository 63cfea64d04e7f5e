"""Real model kits (../shared/models/<kit>: real config/tokenizer files, no weights) for tests.

``tiny_kit`` is a session fixture: ``tiny_kit("qwen3-8b")`` builds that kit's real-shaped tiny model
once per test session (real config shrunk, real tokenizer files, random weights) and returns its
folder; a test skips with a reason when the kits are not beside the checkout. Import the fixture
into a test module with ``from tests.kits import tiny_kit  # noqa: F401``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
KITS_DIR = REPO.parent / "shared" / "models"

# Kits of native transformers architectures: build_tiny_from_kit takes them as they are.
NATIVE_KITS = ("qwen2.5-7b", "qwen2.5-7b-instruct", "qwen3-8b", "llama-3.1-8b-instruct")

# Qwen-7B (v1, remote code) kits, and the kit supplying the files each lacks. Their tiny models are
# built as v1 checkpoints (taiyi_core.models.build_tiny_qwen_v1) and converted to native Qwen2
# (`taiyi model convert`), which is what the paper preset trains on.
V1_KITS = {"qwen-7b": None, "qwen-7b-2023-09": "qwen-7b"}

# Kits without a chat template of their own, and the kit whose tokenizer (same vocabulary) has one.
# The Qwen2.5-7B base kit has only vocab.json + merges.txt (no tokenizer_config.json).
CHAT_TOKENIZER_KIT = {"qwen2.5-7b": "qwen2.5-7b-instruct"}


# The models the presets name (Hub ids, or the local folder `taiyi model convert` writes for the paper
# preset), and the kit holding that model's files.
HUB_KITS = {
    "Qwen/Qwen2.5-7B": "qwen2.5-7b",
    "Qwen/Qwen2.5-7B-Instruct": "qwen2.5-7b-instruct",
    "Qwen/Qwen3-8B": "qwen3-8b",
    "meta-llama/Llama-3.1-8B-Instruct": "llama-3.1-8b-instruct",
    "Qwen/Qwen-7B": "qwen-7b",
    "models/qwen-7b-native": "qwen-7b",  # jobs/taiyi1.yaml: Qwen/Qwen-7B after `taiyi model convert`
}


def kit_dir(name: str) -> Path:
    """The kit's folder, or skip the test (the kits live beside the checkout, not in it)."""
    path = KITS_DIR / name
    if not (path / "config.json").is_file() and not (path / "tokenizer_config.json").is_file():
        pytest.skip(f"model kit {name!r} not found at {path} (real model files live beside the checkout)")
    return path


def chat_tokenizer_dir(name: str) -> Path:
    """Where the kit's chat-template tokenizer lives (its own folder unless it has none)."""
    return kit_dir(CHAT_TOKENIZER_KIT.get(name, name))


class TinyKits:
    """Builds each kit's tiny model at most once per session.

    ``tiny_kit(name)`` is a native transformers checkpoint for every kit (Qwen-7B v1 kits: converted);
    ``tiny_kit.v1(name)`` is the tiny v1 checkpoint itself (remote code, v1 weight names).
    """

    def __init__(self, root: Path):
        self.root = root
        self.built: dict[str, Path] = {}

    def __call__(self, name: str, *, seed: int = 0) -> Path:
        key = f"{name}-seed{seed}"
        if key not in self.built:
            if name in V1_KITS:
                from taiyi_core.models.qwen_v1_convert import convert

                convert(self.v1(name, seed=seed), self.root / key)
                self.built[key] = self.root / key
            else:
                from taiyi_core.train.tiny import build_tiny_from_kit

                self.built[key] = build_tiny_from_kit(kit_dir(name), self.root / key, seed=seed)
        return self.built[key]

    def v1(self, name: str, *, seed: int = 0) -> Path:
        from taiyi_core.models.qwen_v1_tiny import build_tiny_qwen_v1

        key = f"{name}-v1-seed{seed}"
        if key not in self.built:
            base = V1_KITS[name]
            self.built[key] = build_tiny_qwen_v1(
                kit_dir(name), self.root / key, seed=seed, base_kit=kit_dir(base) if base else None
            )
        return self.built[key]


@pytest.fixture(scope="session")
def tiny_kit(tmp_path_factory) -> TinyKits:
    return TinyKits(tmp_path_factory.mktemp("kits"))


def localize_preset(preset, tiny_kit: TinyKits):
    """The preset with its model swapped for the kit's tiny model, its tokenizer for the kit's files."""
    spec = preset.model
    model_kit = HUB_KITS.get(spec.name_or_path)
    if model_kit is None:
        raise KeyError(f"preset {preset.name}: no kit for model {spec.name_or_path!r} (HUB_KITS)")
    tokenizer = str(kit_dir(HUB_KITS[spec.tokenizer])) if spec.tokenizer else None
    model = spec.model_copy(update={"name_or_path": str(tiny_kit(model_kit)), "tokenizer": tokenizer})
    return preset.model_copy(update={"model": model})
