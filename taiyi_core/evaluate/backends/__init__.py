"""Generation backends behind one interface (``base.Generator``): ``hf`` (transformers) and ``vllm``.

``make_generator`` picks one; neither backend imports the other or the generation loop.
"""

from __future__ import annotations

from taiyi_core.evaluate.backends.base import Generator, GenOut, PromptFormatter
from taiyi_core.evaluate.config import EvalSettings
from taiyi_core.evaluate.prompting import Prompting
from taiyi_core.evaluate.weights import Weights


def make_generator(weights: Weights, settings: EvalSettings, prompting: Prompting | None = None) -> Generator:
    """The backend the settings ask for; ``auto`` takes vLLM where it imports and a GPU is present."""
    backend = settings.backend
    if backend == "auto":
        from taiyi_core.evaluate.backends.vllm import vllm_usable

        backend = "vllm" if vllm_usable() else "hf"
    if backend == "vllm":
        from taiyi_core.evaluate.backends.vllm import VLLMGenerator

        return VLLMGenerator(weights, settings, prompting)
    from taiyi_core.evaluate.backends.hf import HFGenerator

    return HFGenerator.load(weights, settings, prompting)


__all__ = ["GenOut", "Generator", "PromptFormatter", "make_generator"]
