"""Remote code only when a preset opts in; Qwen-7B (v1) loads name `taiyi model convert` (real kit files)."""

from __future__ import annotations

import json

import pytest

from taiyi_core.config import ConfigError, ModelSpec
from tests.kits import kit_dir

pytest.importorskip("tiktoken", reason="Qwen-v1's own tokenizer needs tiktoken (test extra)")


@pytest.fixture(scope="module")
def tiny_v1(tmp_path_factory):
    from taiyi_core.models.qwen_v1_tiny import build_tiny_qwen_v1

    return build_tiny_qwen_v1(kit_dir("qwen-7b"), tmp_path_factory.mktemp("v1") / "qwen-7b")


def test_v1_tokenizer_without_opt_in_points_to_convert():
    from taiyi_core.train.trainer import load_tokenizer

    with pytest.raises(ConfigError, match=r"qwen-7b: a Qwen-7B \(v1\) tokenizer .*`taiyi model convert SRC"):
        load_tokenizer(ModelSpec(name_or_path=str(kit_dir("qwen-7b"))))


def test_v1_tokenizer_with_opt_in_runs_its_remote_code():
    from taiyi_core.train.trainer import load_tokenizer

    tok = load_tokenizer(ModelSpec(name_or_path=str(kit_dir("qwen-7b")), trust_remote_code=True))
    assert type(tok).__name__ == "QWenTokenizer"
    assert tok.convert_tokens_to_ids("<|im_end|>") == 151645


@pytest.mark.parametrize("opt_in", [False, True])
def test_v1_model_is_refused_with_the_converter_named(tiny_v1, tmp_path, opt_in):
    from taiyi_core.train.config import TrainSettings
    from taiyi_core.train.merge import merge
    from taiyi_core.train.trainer import load_base_model, resolve_effective

    spec = ModelSpec(name_or_path=str(tiny_v1), trust_remote_code=opt_in)
    why = "re-initialised" if opt_in else "remote code, not allowed"
    settings = TrainSettings()
    with pytest.raises(ConfigError, match=f"{why}.*taiyi model convert"):
        load_base_model(spec, settings, resolve_effective(settings))
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text("{}")
    with pytest.raises(ConfigError, match=f"{why}.*taiyi model convert"):
        merge(spec, adapter, tmp_path / "merged")


def test_failing_remote_code_names_the_converter(tmp_path):
    """A checkpoint whose remote code cannot import (as Qwen-v1's under transformers 5)."""
    from transformers import AutoConfig

    from taiyi_core.models.remote_code import remote_code_errors

    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "broken", "auto_map": {"AutoConfig": "configuration_broken.BrokenConfig"}})
    )
    (tmp_path / "configuration_broken.py").write_text("import transformers_stream_generator\n")
    failed = r"loading its remote code failed \(ImportError.*taiyi model convert"
    with pytest.raises(ConfigError, match=failed), remote_code_errors(str(tmp_path), trust_remote_code=True):
        AutoConfig.from_pretrained(str(tmp_path), trust_remote_code=True)
    # not opted in: transformers' own error, untouched
    with pytest.raises(ValueError) as info, remote_code_errors(str(tmp_path), trust_remote_code=False):
        AutoConfig.from_pretrained(str(tmp_path), trust_remote_code=False)
    assert not isinstance(info.value, ConfigError)


def test_native_and_converted_checkpoints_pass(tiny_v1, tmp_path):
    from taiyi_core.models.qwen_v1_convert import convert
    from taiyi_core.models.remote_code import guard_model, guard_tokenizer

    native = tmp_path / "native"
    convert(tiny_v1, native)
    for name in (str(native), str(kit_dir("qwen3-8b")), "no-such/model-on-this-machine"):
        guard_model(name, trust_remote_code=False)
        guard_tokenizer(name, trust_remote_code=False)


def test_evaluation_loaders_refuse_v1_with_the_converter_named(tiny_v1):
    from taiyi_core.evaluate.backends.hf import HFGenerator
    from taiyi_core.evaluate.config import EvalSettings
    from taiyi_core.evaluate.prompting import load_tokenizer
    from taiyi_core.evaluate.weights import Weights

    kit = str(kit_dir("qwen-7b"))
    with pytest.raises(ConfigError, match="remote code, not allowed.*taiyi model convert"):
        load_tokenizer(Weights(kit, kit, None, "base"))
    opted_in = Weights(kit, kit, None, "base", trust_remote_code=True)
    assert type(load_tokenizer(opted_in)).__name__ == "QWenTokenizer"
    for opt_in in (False, True):
        weights = Weights(str(tiny_v1), kit, None, "base", trust_remote_code=opt_in)
        with pytest.raises(ConfigError, match="taiyi model convert"):
            HFGenerator.load(weights, EvalSettings())
