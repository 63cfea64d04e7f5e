"""``taiyi eval``: generate + score eval sets locally, score saved predictions, print the scoreboard."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from taiyi_core.config import ConfigError, ModelSpec, Preset, load_preset
from taiyi_core.evaluate.io import EvalDataError
from taiyi_core.messages import fail
from taiyi_core.rundir import RunDir, safe_name
from taiyi_core.tasks.definitions import DEFINITIONS

app = typer.Typer(help="Per-dataset evaluation: generate, score, scoreboard.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _run_dir(value: str) -> RunDir:
    """A run name under the runs root, or a path to a run folder (``RunDir.from_arg``); it must exist."""
    run = RunDir.from_arg(value)
    if not run.root.is_dir():
        if "/" in value:
            raise ConfigError(f"run folder {Path(value).expanduser()} not found")
        raise ConfigError(f"run {value!r} not found at {run.root}")
    return run


def _preset(run: RunDir, preset: str | None, overrides: Sequence[str] = ()) -> Preset:
    """The run's frozen preset, or ``preset`` (with overrides) frozen now (taiyi_core/lifecycle.py)."""
    from taiyi_core import lifecycle

    return lifecycle.step_preset(run, preset, overrides)


def _datasets(run: RunDir, value: str | None, default: list[str]) -> list[str]:
    if value is None:
        return default
    if value == "available":
        names = sorted(p.stem for p in run.eval_data.glob("*.jsonl"))
        if not names:
            raise ConfigError(f"no eval sets under {run.eval_data}")
        return names
    return [safe_name("eval set", d.strip()) for d in value.split(",") if d.strip()]


def _summary_table(title: str, results: list[dict[str, Any]]) -> Table:
    from taiyi_core.evaluate.score import selected_score

    t = Table(title=title)
    for col in ("dataset", "task", "n", "metric", "score", "parse failures", "missing", "status"):
        t.add_column(col, justify="right" if col in {"n", "score", "parse failures", "missing"} else "left")
    for r in results:
        if r.get("status") == "skipped" and "n" not in r:
            t.add_row(r["dataset"], "", "", "", "", "", "", f"skipped: {r.get('reason', '')}")
            continue
        definition, key, value = selected_score(r)
        status = "cached" if r.get("skipped") else r.get("status", "scored")
        t.add_row(
            r["dataset"],
            str(r.get("task", "")),
            str(r.get("n", "")),
            f"{key} ({definition})",
            f"{100 * value:.1f}",
            str(r.get("parse_failures", "")),
            str(r.get("missing", "")),
            status,
        )
    return t


@app.command("run")
def run_cmd(
    run: str | None = typer.Option(
        None, "--run", "-r", help="run name (under runs/) or path; with --model default: eval-<model>"
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        help="any causal LM (base, instruct, merged, converted): a local folder or a hub id in the HF cache",
    ),
    datasets: str | None = typer.Option(
        None, "--datasets", help="comma-separated eval sets; 'available' = every data/eval/*.jsonl"
    ),
    adapter: str | None = typer.Option(
        None, "--adapter", help="stage2 | stage1 | none | PATH; without --run/--model: DIR on its own base"
    ),
    preset: str | None = typer.Option(None, "--preset", help="default: the run's frozen preset.yaml"),
    sets: list[str] = typer.Option(
        None, "--set", help="preset override key.path=value (repeatable; kept in the frozen preset)"
    ),
    limit: int | None = typer.Option(None, "--limit", help="first N instances per set (smoke runs)"),
    batch_size: int | None = typer.Option(None, "--batch-size"),
    backend: str | None = typer.Option(None, "--backend", help="auto | hf | vllm"),
    prompt_format: str | None = typer.Option(
        None, "--prompt-format", help="auto | taiyi1 | chat_template | raw (auto: from the model)"
    ),
    max_new_tokens: int | None = typer.Option(None, "--max-new-tokens", help="answer budget for every task"),
    raw_dir: str | None = typer.Option(
        None, "--raw-dir", help="with --model: raw files for missing eval sets (default data/raw)"
    ),
    revision: str | None = typer.Option(None, "--revision", help="with --model: hub revision"),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="run the model's own code"),
    force: bool = typer.Option(False, "--force", help="redo sets whose metrics.json is current"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Generate and score eval sets in this process (the SLURM eval array runs the same function).

    With --model (or --adapter DIR alone) any causal LM is evaluated; eval sets the run lacks are
    prepared from the raw files first, and the prompt format is decided from the model.
    """
    from taiyi_core.data.prepare import DataStepError
    from taiyi_core.evaluate.config import eval_settings
    from taiyi_core.evaluate.jobs import evaluate_dataset
    from taiyi_core.evaluate.prompting import resolve_prompting
    from taiyi_core.evaluate.weights import model_spec, resolve_weights

    model_mode = model is not None or _adapter_alone(run, adapter, preset)
    overrides: dict[str, Any] = {
        "limit": limit,
        "batch_size": batch_size,
        "backend": backend,
        "prompt_format": prompt_format,
    }
    if max_new_tokens is not None:
        from taiyi_core.evaluate.config import DEFAULT_MAX_NEW_TOKENS

        overrides["max_new_tokens"] = dict.fromkeys(DEFAULT_MAX_NEW_TOKENS, max_new_tokens)
        overrides["default_max_new_tokens"] = max_new_tokens
    try:
        if model_mode:
            spec, adapter_setting = model_spec(
                model, adapter, revision=revision, trust_remote_code=trust_remote_code
            )
            rd, p, settings, names = _model_mode(
                spec,
                adapter_setting,
                run=run,
                preset=preset,
                raw_dir=raw_dir,
                datasets=datasets,
                overrides=overrides,
                sets=sets or (),
                quiet=as_json,
            )
        else:
            if run is None:
                raise ConfigError("give --run RUN, --model PATH_OR_HUB_ID, or --adapter DIR")
            rd = _run_dir(run)
            p = _preset(rd, preset, sets or ())
            settings = eval_settings(p, f"preset {p.name}", adapter=adapter, **overrides)
            names = _datasets(rd, datasets, settings.datasets)
        weights = resolve_weights(p.model, settings.adapter, rd)
        prompting = resolve_prompting(weights, settings)
    except (ConfigError, EvalDataError, DataStepError, ValueError, OSError) as exc:
        raise fail(str(exc)) from None
    if not as_json:
        adapter_txt = f" + adapter {weights.adapter}" if weights.adapter else ""
        err.print(
            f"model {weights.base}{adapter_txt} · prompt format {prompting.prompt_format} "
            f"({prompting.reason}) · stop ids {list(prompting.stop_ids)}",
            highlight=False,
            soft_wrap=True,
        )
    results = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=as_json,
    ) as progress:
        for name in names:
            bar = progress.add_task(name, total=None)

            def started(total: int, todo: int, bar: Any = bar) -> None:
                progress.update(bar, total=total, completed=total - todo)

            try:
                res = evaluate_dataset(
                    rd,
                    p,
                    name,
                    force=force,
                    settings=settings,
                    on_start=started,
                    on_batch=partial(progress.advance, bar),
                    prompting=prompting,
                )
            except (ConfigError, EvalDataError, ValueError, OSError) as exc:
                raise fail(str(exc)) from None
            progress.update(bar, completed=progress.tasks[bar].total or 0)
            results.append(res)
    if as_json:
        print(json.dumps(results, ensure_ascii=False, indent=2, default=str))
    else:
        what = f"model {Path(weights.base).name}" if model_mode else f"adapter {settings.adapter}"
        title = f"eval · run {rd.name} · {what} · prompt format {prompting.prompt_format}"
        console.print(_summary_table(title, results))
        console.print(f"written: {rd.root / 'eval'}", highlight=False)


def _adapter_alone(run: str | None, adapter: str | None, preset: str | None) -> bool:
    """``--adapter DIR`` with no preset to take a base from: the base is the adapter's own."""
    if adapter is None or adapter in ("stage1", "stage2", "none") or preset is not None:
        return False
    if run is None:
        return True
    try:
        return not _run_dir(run).preset.is_file()
    except (ConfigError, ValueError):  # a run that does not exist yet
        return True


def _model_run_name(model: str) -> str:
    """``eval-<model>`` for a folder's name or a hub id (``owner/name`` -> ``owner--name``)."""
    p = Path(model)
    stem = p.name if p.is_dir() else model.replace("/", "--")
    return "eval-" + re.sub(r"[^A-Za-z0-9._-]", "-", stem)[:90]


def _model_mode(
    spec: ModelSpec,
    adapter: str,
    *,
    run: str | None,
    preset: str | None,
    raw_dir: str | None,
    datasets: str | None,
    overrides: dict[str, Any],
    sets: Sequence[str] = (),
    quiet: bool,
) -> tuple[RunDir, Preset, Any, list[str]]:
    """(run, preset, settings, eval sets) for ``--model``: the model replaces any preset's model.

    ``sets`` (``--set key.path=value``) apply over the preset built here and are validated like a
    preset file's; a run evaluated this way for the first time freezes that preset (overrides in its
    header), as the run mode's first step does. ``model.*`` keys come from --model/--revision only."""
    from taiyi_core import lifecycle
    from taiyi_core.config import DataSettings, validate
    from taiyi_core.evaluate.config import eval_settings
    from taiyi_core.evaluate.sets import plan_sets, prepare_eval_sets
    from taiyi_core.preset_file import overridden, parse_override

    model_keys = [s for s in sets if parse_override(s)[0][0] == "model"]
    if model_keys:
        raise ConfigError(
            f"--set {model_keys[0]}: with --model the model is set by --model, --revision and "
            "--trust-remote-code, not by overrides"
        )
    base = load_preset(preset) if preset else None
    data = base.data if base is not None else DataSettings()
    if raw_dir is not None:
        data = data.model_copy(update={"raw_dir": str(Path(raw_dir).expanduser().resolve())})
    built = Preset(
        name=base.name if base is not None else "model-eval",
        model=spec,
        data=data,
        eval=dict(base.eval) if base is not None else {},
    )
    source = f"--model {spec.name_or_path}" + (f" --preset {preset}" if preset else "")
    where = f"{source} (with {' '.join(sets)})" if sets else source
    p = validate(Preset, overridden(built.model_dump(mode="json"), sets), where) if sets else built
    settings = eval_settings(p, source, follow_training=False, adapter=adapter, **overrides)
    rd = RunDir.from_arg(run) if run is not None else RunDir.named(_model_run_name(spec.name_or_path))
    explicit = datasets is not None and datasets != "available"
    names = _datasets(rd, datasets, settings.datasets)
    plan = plan_sets(rd, p, names)
    if plan.unavailable and (explicit or not (plan.present or plan.to_prepare)):
        why = "; ".join(f"{n}: {r}" for n, r in plan.unavailable.items())
        raise ConfigError(f"eval set(s) not available in {rd.eval_data} nor preparable: {why}")
    lifecycle.freeze(rd, lifecycle.RunPreset(p, source, tuple(sets), False, rd.preset))  # first step only
    if plan.to_prepare:
        counts = prepare_eval_sets(rd, p, plan)
        if not quiet:
            shown = ", ".join(f"{n} ({k})" for n, k in counts.items())
            err.print(f"eval sets prepared from {p.data.raw_dir}: {shown}", highlight=False, soft_wrap=True)
    if plan.unavailable and not quiet:
        err.print(f"[yellow]skipped (no raw files): {', '.join(plan.unavailable)}", highlight=False)
    keep = set(plan.present) | {s for chosen in plan.to_prepare.values() for s in chosen}
    return rd, p, settings, [n for n in names if n in keep]


@app.command("score")
def score_cmd(
    run: str | None = typer.Option(None, "--run", "-r", help="re-score a run's saved predictions"),
    datasets: str | None = typer.Option(None, "--datasets", help="with --run: comma-separated sets"),
    task: str | None = typer.Option(None, "--task", help="file level: task name (ner, re, tc, mcqa, ...)"),
    lang: str = typer.Option("en", "--lang", help="file level: en | zh"),
    gold: Path | None = typer.Option(
        None, "--gold", help='file level: JSONL of {"id", "text"}, or an eval-set file data/eval/<set>.jsonl'
    ),
    pred: Path | None = typer.Option(None, "--pred", help='file level: JSONL of {"id", "text"}'),
    definition: str | None = typer.Option(
        None,
        "--definition",
        help=f"scoring definition to show: {' | '.join(DEFINITIONS)} (metrics.json holds every one that "
        "applies; see taiyi_core/tasks/README.md)",
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Score offline: a run's predictions (--run), or a gold and a prediction file (--task --gold --pred)."""
    from taiyi_core.evaluate.score import score_dataset, score_files

    file_level = any(x is not None for x in (task, gold, pred))
    if file_level == (run is not None):
        raise fail("give either --run RUN, or --task TASK --gold GOLD.jsonl --pred PRED.jsonl")
    try:
        if file_level:
            if task is None or gold is None or pred is None:
                raise ConfigError("file-level scoring needs --task, --gold and --pred")
            results = [{"dataset": gold.stem, **score_files(task, lang, gold, pred, definition)}]
        else:
            rd = _run_dir(run)  # type: ignore[arg-type]
            have = sorted(p.parent.name for p in (rd.root / "eval").glob("*/predictions.jsonl"))
            names = _datasets(rd, datasets, have)
            if not names:
                raise ConfigError(f"no predictions under {rd.root / 'eval'}")
            results = []
            for name in names:
                gen = rd.eval(name) / "generation.json"
                limit = json.loads(gen.read_text(encoding="utf-8")).get("limit") if gen.is_file() else None
                results.append(score_dataset(rd, name, limit=limit, definition=definition))
    except (ConfigError, EvalDataError, ValueError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        out: Any = results[0] if file_level else results
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return
    console.print(_summary_table("scores", results))
    for r in results:
        if r.get("missing"):
            console.print(
                f"[yellow]{r['dataset']}: {r['missing']} gold id(s) without a prediction "
                f"(scored as {r['missing_scored_as']}): {', '.join(r['missing_ids'][:10])}"
            )
        if r.get("extra"):
            console.print(
                f"[yellow]{r['dataset']}: {r['extra']} prediction id(s) not in gold (ignored): "
                f"{', '.join(r['extra_ids'][:10])}"
            )


@app.command("report")
def report_cmd(
    run: str = typer.Option(..., "--run", "-r"),
    compare: str | None = typer.Option(
        None, "--compare", help="a second run (e.g. the one-stage ablation) shown beside this one"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Write eval/scoreboard.md + scoreboard.json and print the scoreboard."""
    from taiyi_core.evaluate.report import write_scoreboard

    try:
        rd = _run_dir(run)
        other = _run_dir(compare) if compare else None
    except (ConfigError, ValueError) as exc:
        raise fail(str(exc)) from None
    board, folder = write_scoreboard(rd, other)
    if as_json:
        print(json.dumps(board, ensure_ascii=False, indent=2, default=str))
        return
    _print_board(board)
    console.print(f"written: {folder / 'scoreboard.md'}, {folder / 'scoreboard.json'}")


def _c(x: Any, signed: bool = False) -> str:
    if x is None:
        return "–"
    return f"{x:+.1f}" if signed else str(x)


def _print_board(board: dict[str, Any]) -> None:
    from taiyi_core.evaluate.board_view import board_averages, scoreboard_table

    a = board["average"]
    title = f"Scoreboard · run {board['run']} (0-100; paper names in scoreboard.md)"
    t = scoreboard_table(title, board["rows"], board_averages(a))
    console.print(t)
    console.print(f"[dim]{a['rule']}[/]")
    b = Table(title="BioRED zero-shot NER" + ("" if board["biored_scored"] else " (not scored in this run)"))
    for col in ("type", "P", "R", "F1", "Taiyi P", "Taiyi R", "Taiyi F1", "Δ F1"):
        b.add_column(col, justify="left" if col == "type" else "right")
    for r in board["biored"]:
        b.add_row(
            r["entity_type"],
            _c(r["precision"]),
            _c(r["recall"]),
            _c(r["f1"]),
            _c(r["taiyi_precision"]),
            _c(r["taiyi_recall"]),
            _c(r["taiyi_f1"]),
            _c(r["delta_f1"], True),
        )
    console.print(b)
    c = board["comparison"]
    if c:
        ct = Table(title=f"{c['this_run']} vs {c['compare_run']}")
        for col in ("set", c["this_run"], c["compare_run"], "Δ", "paper 1-stage", "paper 2-stage"):
            ct.add_column(col, justify="left" if col == "set" else "right")
        for r in c["rows"]:
            ct.add_row(
                r["dataset"],
                _c(r["this_run"]),
                _c(r["compare_run"]),
                _c(r["delta"], True),
                _c(r["paper_one_stage"]),
                _c(r["paper_two_stage"]),
            )
        ct.add_section()
        ct.add_row(
            f"mean ({c['sets_in_both']} in both)",
            _c(c["mean_this_run"]),
            _c(c["mean_compare_run"]),
            "",
            _c(c["paper_mean_one_stage"]),
            _c(c["paper_mean_two_stage"]),
        )
        console.print(ct)
