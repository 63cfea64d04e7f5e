"""Per-dataset evaluation: generate -> predictions -> parse + score (task modules) -> metrics -> scoreboard.

Where things live:
- config.py      the preset's ``eval:`` section (EvalSettings: sets, batch size, decoding, backend, adapter)
- io.py          eval-set rows (data/eval/<set>.jsonl) and the resumable predictions.jsonl
- weights.py     base model / base + adapter / merged model resolution and identity (hashes)
- prompting.py   prompt format, tokenizer and stop ids, resolved once for both backends
- backends/      one interface (base.py: Generator, PromptFormatter), hf.py (transformers: batched,
                 left-padded), vllm.py (GPU clusters; import-guarded, untested on the CPU dev machine),
                 make_generator in __init__.py
- generate.py    the resumable generation loop (length-sorted chunks appended as they finish)
- score.py       offline scoring with the task module's parse + score; metrics.json; file-level scoring
- reference.py   the paper's numbers (reference_scores.tsv) mapped to our set names
- report.py      scoreboard.md / scoreboard.json (beside Taiyi-1, ChatGPT-3.5, SOTA; BioRED; ablation)
- jobs.py        pipeline entries: evaluate_dataset (one array task per set), datasets_to_evaluate,
                 write_report
- commands.py    ``taiyi eval run | score | report``
"""
