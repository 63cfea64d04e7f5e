"""Predictions file repair, eval-file validation and the eval: section's validation messages."""

from __future__ import annotations

import pytest
from evalhelpers import ner_rows

from taiyi_core.config import ConfigError, Preset, validate
from taiyi_core.evaluate.config import PAPER_DATASETS, EvalSettings, eval_settings
from taiyi_core.evaluate.io import EvalDataError, PredictionStore, read_eval_rows, read_id_text
from taiyi_core.evaluate.jobs import datasets_to_evaluate


def test_truncated_last_line_is_dropped(tmp_path):
    store = PredictionStore(tmp_path / "predictions.jsonl")
    store.append([{"id": "a", "prediction": "x"}, {"id": "b", "prediction": "y"}])
    with store.path.open("a") as fh:
        fh.write('{"id": "c", "predic')
    assert set(store.load()) == {"a", "b"} and store.dropped_partial_line
    assert store.path.read_text().endswith('"y"}\n')  # the file itself was repaired
    store.append([{"id": "c", "prediction": "z"}])
    assert set(PredictionStore(store.path).load()) == {"a", "b", "c"}


def test_complete_json_without_newline_is_also_dropped(tmp_path):
    # A kill can land exactly before the newline; such a row is regenerated rather than trusted.
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a"}\n{"id": "b"}')
    assert set(PredictionStore(path).load()) == {"a"}


def test_corrupt_middle_line_is_an_error(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "a"}\n{"id": \n{"id": "c"}\n')
    with pytest.raises(EvalDataError, match=r"p.jsonl:2: corrupt line"):
        PredictionStore(path).load()


def test_eval_file_errors_name_line(tmp_path):
    import json

    path = tmp_path / "hoc.jsonl"
    rows = ner_rows(n=2)
    del rows[1]["target"]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(EvalDataError, match=r"hoc.jsonl:2: missing key\(s\) target"):
        read_eval_rows(path)
    rows = ner_rows(n=2)
    rows[1]["id"] = rows[0]["id"]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(EvalDataError, match=r"hoc.jsonl:2: duplicate id"):
        read_eval_rows(path)


def test_jsonl_inputs_skip_blank_lines_and_name_a_bad_line(tmp_path):
    import json

    path = tmp_path / "set.jsonl"
    rows = ner_rows(n=3)
    path.write_text(json.dumps(rows[0]) + "\n\n" + json.dumps(rows[1]) + "\n" + json.dumps(rows[2]) + "\n")
    assert [r.id for r in read_eval_rows(path)] == [r["id"] for r in rows]
    assert len(read_eval_rows(path, limit=2)) == 2
    path.write_text(json.dumps(rows[0]) + "\n\n{not json\n")
    with pytest.raises(EvalDataError, match=r"set.jsonl:3: not valid JSON"):
        read_eval_rows(path)
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": 1, "text": "a"}\n\n{"id": "1", "text": "b"}\n')
    assert read_id_text(gold) == ({"1": "b"}, ["1"])
    gold.write_text('{"id": 1, "text": "a"}\n[1]\n')
    with pytest.raises(EvalDataError, match=r"gold.jsonl:2: expected an object with keys 'id' and 'text'"):
        read_id_text(gold)
    gold.write_text('{"id": 1, "text": "a"}\n{"id": 2, "text": \n')
    with pytest.raises(EvalDataError, match=r"gold.jsonl:2: not valid JSON"):
        read_id_text(gold)


def test_settings_defaults_and_errors():
    s = EvalSettings()
    assert s.datasets == list(PAPER_DATASETS) and len(s.datasets) == 14
    assert s.decoding.mode == "greedy" and s.new_tokens_for("mcqa") == 32 and s.new_tokens_for("qa") == 500
    sampling = EvalSettings(decoding={"mode": "sampling"}).decoding
    assert (sampling.top_p, sampling.temperature, sampling.repetition_penalty) == (0.9, 0.3, 1.0)
    # the eval: section is typed inside Preset: a preset with a bad one does not load
    def load(section):
        return validate(Preset, {"name": "p", "model": {"name_or_path": "m"}, "eval": section}, "jobs/p.yaml")

    with pytest.raises(ConfigError, match=r"jobs/p.yaml: unknown key 'eval.max_new_token' \(did you mean"):
        load({"batch_size": 2, "max_new_token": {"ner": 3}})
    with pytest.raises(ConfigError, match=r"eval.decoding.mode"):
        load({"decoding": {"mode": "beam"}})
    with pytest.raises(ConfigError, match=r"listed twice: hoc"):
        load({"datasets": ["hoc", "hoc"]})
    with pytest.raises(ConfigError, match=r"x:eval: key 'batch_size'"):  # command-line overrides, same checks
        eval_settings(load({}), "x", batch_size=0)


def test_array_items_come_from_the_preset():
    preset = Preset(name="p", model={"name_or_path": "m"}, eval={"datasets": ["hoc", "pubmedqa"]})
    assert datasets_to_evaluate(preset) == ["hoc", "pubmedqa"]
    assert len(datasets_to_evaluate(Preset(name="p", model={"name_or_path": "m"}))) == 14
