"""A tiny random-init Qwen2-shaped model and a locally trained byte-level BPE tokenizer.

Used by the CPU demo preset and by the tests of every area that needs a model: it is built offline
in about a second, reloads with ``AutoModelForCausalLM`` / ``AutoTokenizer`` like the real Qwen, and
is deterministic for a seed.

Tokenizer trap (transformers 5.x): ``AutoTokenizer`` maps ``model_type=qwen2`` to ``Qwen2Tokenizer``,
which rebuilds the pre-tokenizer as Split(Qwen2 regex) + ByteLevel(use_regex=False) on load. We train
with exactly that pipeline (and Qwen2's NFC normaliser), so token ids do not change after reload.
"""

from __future__ import annotations

from pathlib import Path

from taiyi_core.atomic import atomic_path

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")

# Qwen-style chat template with generation markers, so TRL's assistant-only loss can find the
# assistant spans (return_assistant_tokens_mask). The closing <|im_end|> is trained too.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\n' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{{ '\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# A small bilingual biomedical corpus: enough for merges of common English and Chinese pieces.
CORPUS: tuple[str, ...] = (
    "Extract the chemical and disease entities from the following text.",
    "Naloxone reverses the antihypertensive effect of clonidine in hypertensive patients.",
    "Lidocaine-induced cardiac asystole was observed after intravenous administration.",
    "The gene BRCA1 is associated with breast cancer and ovarian cancer risk.",
    "Mutations in FBN1 cause Marfan syndrome, a disorder of connective tissue.",
    "Find relations of drug pairs in the text. Relation Types: ADVISE, MECHANISM, EFFECT, INT",
    "ADVISE: [Mitotane, coumarin-type anticoagulants]\nMECHANISM: [Mitotane, warfarin]",
    "Document triage: Labels: patient, doctor. Result: patient",
    "Question: Does aspirin reduce the risk of myocardial infarction? Answer: yes",
    "chemical: cisplatin; doxorubicin\ndisease: nephrotoxicity; cardiomyopathy",
    "Translate the following text into Chinese: Diabetes mellitus is a chronic metabolic disease.",
    "Give the abstract below a title: Hypertension is a major risk factor for stroke.",
    "The patient presented with fever, cough and shortness of breath for three days.",
    "Protein-protein interaction between p53 and MDM2 regulates apoptosis.",
    "请识别以下文本中的实体：患者出现发热、咳嗽、呼吸困难等症状。",
    "实体类型：疾病，药物，症状，检查，手术",
    "疾病：糖尿病; 高血压\n药物：二甲双胍; 阿司匹林",
    "上述文本被分类为：治疗方案",
    "给定文本：“儿童哮喘的长期管理需要吸入糖皮质激素。”\n请将其分类为：病因，治疗，预防",
    "翻译成英文：“糖尿病是一种慢性代谢性疾病。”",
    "上述问诊对话的诊疗报告如下：\n主诉：发热三天\n现病史：患者三天前出现发热\n诊断：上呼吸道感染\n建议：多喝水，注意休息",
    "医生您好，我最近总是头痛，晚上睡不好，需要做什么检查吗？",
    "建议您先去医院神经内科就诊，做一个头颅CT检查。",
    "具有药物治疗关系的实体对如下：[阿莫西林, 肺炎]; [布洛芬, 发热]",
    "语义相同\n语义不相同\nsimilar\ndissimilar",
    "0123456789 %()[]{}<>:;,.!?-+=/\\'\"",
)


def build_tokenizer(vocab_size: int = 640):
    """Train a byte-level BPE on CORPUS with Qwen2's pre-tokenizer; returns a Qwen2Tokenizer."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, trainers
    from tokenizers.models import BPE
    from transformers import Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    tok = Tokenizer(BPE(unk_token=None, continuing_subword_prefix="", end_of_word_suffix="", fuse_unk=False))
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=1,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS, trainer=trainer)
    model = tok.model
    vocab = tok.get_vocab()
    # The trained BPE exposes its merges through its JSON form.
    import json

    merges = json.loads(tok.to_str())["model"]["merges"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in merges]
    del model
    hf = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        bos_token=None,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
    )
    hf.chat_template = CHAT_TEMPLATE
    hf.model_max_length = 2048
    return hf


def build_tiny_model(out_dir: Path, *, seed: int = 0) -> Path:
    """Write a tiny random-init Qwen2 model + tokenizer to ``out_dir`` (atomically); return the path."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    out_dir = Path(out_dir)
    tokenizer = build_tokenizer()
    eod = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    im_end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=False,
        bos_token_id=eod,
        eos_token_id=eod,
        pad_token_id=eod,
        dtype="float32",
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=eod, eos_token_id=[eod, im_end], pad_token_id=eod, do_sample=False
    )
    with atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    return out_dir


# Files of a model repository that describe its tokenizer and generation defaults; copied verbatim
# by build_tiny_from_kit so the tiny model tokenises and stops exactly like the real one.
KIT_TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "generation_config.json",
)

# The shrunk sizes of a real-shaped tiny model. vocab_size stays real (152k for Qwen, 128k for
# Llama), so hidden is kept very small: the embedding and head are most of the parameters.
TINY_SIZES = {"num_hidden_layers": 2, "hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 64}


def tiny_config_dict(real: dict, *, layers: int, hidden: int, heads: int, intermediate: int) -> dict:
    """The real config with only its sizes shrunk; everything else (ids, rope, ties, ...) kept."""
    cfg = dict(real)
    real_heads = int(real["num_attention_heads"])
    real_kv = int(real.get("num_key_value_heads") or real_heads)
    cfg.update(
        num_hidden_layers=layers,
        hidden_size=hidden,
        num_attention_heads=heads,
        intermediate_size=intermediate,
    )
    if "num_key_value_heads" in real:
        # keep grouped-query attention grouped (and multi-head attention multi-head)
        cfg["num_key_value_heads"] = heads if real_kv == real_heads else max(1, heads // 2)
    if "head_dim" in real:
        cfg["head_dim"] = hidden // heads
    if "max_window_layers" in real:
        cfg["max_window_layers"] = layers
    cfg.pop("torch_dtype", None)
    cfg.pop("layer_types", None)  # derived from num_hidden_layers by the config class
    cfg["dtype"] = "float32"  # CPU tests; the real checkpoints are bf16
    return cfg


def build_tiny_from_kit(
    kit_dir: Path,
    out_dir: Path,
    *,
    seed: int = 0,
    layers: int = TINY_SIZES["num_hidden_layers"],
    hidden: int = TINY_SIZES["hidden_size"],
    heads: int = TINY_SIZES["num_attention_heads"],
    intermediate: int = TINY_SIZES["intermediate_size"],
) -> Path:
    """A real-shaped tiny model from a model kit (real config/tokenizer files, no weights).

    The kit's ``config.json`` is shrunk (``tiny_config_dict``), random weights are drawn for a seed
    and saved with ``save_pretrained``; the kit's tokenizer and generation-config files are copied
    verbatim, so token ids, special tokens, chat template and stop ids are the real ones. Native
    transformers architectures only: a remote-code kit (Qwen-7B v1) needs conversion first.
    """
    import json
    import shutil

    import torch
    from transformers import CONFIG_MAPPING, AutoModelForCausalLM

    kit_dir, out_dir = Path(kit_dir), Path(out_dir)
    real = json.loads((kit_dir / "config.json").read_text(encoding="utf-8"))
    if "auto_map" in real or real.get("model_type") not in CONFIG_MAPPING:
        raise ValueError(
            f"{kit_dir}: model_type {real.get('model_type')!r} is remote code, not a native transformers "
            "architecture; convert it first (`taiyi model convert`, build_tiny_qwen_v1 for a tiny one)"
        )
    cfg = tiny_config_dict(real, layers=layers, hidden=hidden, heads=heads, intermediate=intermediate)
    config = CONFIG_MAPPING[cfg["model_type"]].from_dict(cfg)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    with atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp)
        for name in KIT_TOKENIZER_FILES:  # after save_pretrained: the real generation config wins
            if (kit_dir / name).is_file():
                shutil.copyfile(kit_dir / name, Path(tmp) / name)
        (Path(tmp) / "tiny_from_kit.json").write_text(
            json.dumps({"kit": str(kit_dir), "seed": seed, "sizes": {k: cfg[k] for k in TINY_SIZES}}) + "\n",
            encoding="utf-8",
        )
    return out_dir
