"""CLI: `taiyi train [preview]` (``train_app``), `taiyi merge` (``app``), `taiyi model tiny|convert`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from taiyi_core.messages import print_error

app = typer.Typer(help="Two-stage QLoRA training and adapter merging.", no_args_is_help=True)
model_app = typer.Typer(
    help="Model utilities (tiny offline models; Qwen-7B v1 -> native conversion).", no_args_is_help=True
)
console = Console()


@model_app.callback()
def _model_group() -> None:
    """Model utilities."""


@model_app.command("tiny")
def tiny(
    out: Path = typer.Option(..., "--out", help="Folder to write the model and tokenizer to."),
    seed: int = typer.Option(0, help="Seed for the random weights."),
) -> None:
    """Build a tiny random-init Qwen2 model with a locally trained bilingual BPE tokenizer."""
    from taiyi_core.train.tiny import build_tiny_model

    t0 = time.perf_counter()
    path = build_tiny_model(out, seed=seed)
    cfg = json.loads((path / "config.json").read_text())
    table = Table(title=f"tiny model -> {path}")
    for key in ("model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads"):
        table.add_row(key, str(cfg.get(key)))
    table.add_row("built in", f"{time.perf_counter() - t0:.1f} s")
    console.print(table)


@model_app.command("convert")
def convert(
    src: Path = typer.Argument(..., help="Qwen-7B (v1) checkpoint folder (Qwen/Qwen-7B, Taiyi-LLM, ...)."),
    dst: Path = typer.Argument(..., help="Folder to write the native Qwen2 checkpoint to."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace DST if it is not empty."),
    as_json: bool = typer.Option(False, "--json", help="Print the CONVERTED.json record."),
) -> None:
    """Convert a Qwen-7B (v1, remote code) checkpoint to native transformers (Qwen2 + fast tokenizer)."""
    from taiyi_core.models.qwen_v1_config import ConvertError
    from taiyi_core.models.qwen_v1_convert import RECORD
    from taiyi_core.models.qwen_v1_convert import convert as convert_qwen_v1

    try:
        record = convert_qwen_v1(src, dst, overwrite=overwrite)
    except ConvertError as exc:
        print_error(Console(stderr=True), str(exc))
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(record, indent=2, ensure_ascii=False, default=str))
        return
    table = Table(title=f"Qwen-v1 -> native Qwen2: {dst}")
    weights, tok = record["weights"], record["tokenizer"]
    table.add_row("source", record["source"])
    table.add_row("tensors", f"{weights['tensors_in']} -> {weights['tensors_out']} ({weights['dtype']})")
    table.add_row("tokenizer", f"{tok['ranks']} ranks + {tok['special_tokens']['count']} special tokens")
    table.add_row("exact up to", f"{record['exact_up_to_tokens']} tokens (v1's seq_length)")
    table.add_row("record", str(Path(dst) / RECORD))
    table.add_row("converted in", f"{record['seconds']} s")
    console.print(table)


SETS_HELP = "preset override key.path=value (repeatable; kept in the frozen preset)"


def _run_and_preset(
    run: str, preset: str | None, overrides: list[str] | None = None
) -> tuple[object, object]:
    """The run and its preset: the frozen one, or ``preset`` frozen now (the run's first step).
    A configuration problem (a model that is not there included) is one line and exit status 2."""
    from taiyi_core import lifecycle
    from taiyi_core.config import ConfigError
    from taiyi_core.model_check import require_model
    from taiyi_core.rundir import RunDir

    try:
        rd = RunDir.from_arg(run)
        resolved = lifecycle.resolve(rd, preset, overrides or ())
        require_model(resolved.preset.model, str(resolved.file))
        lifecycle.freeze(rd, resolved)
        return rd, resolved.preset
    except (ConfigError, ValueError) as exc:
        print_error(Console(stderr=True), str(exc))
        raise typer.Exit(2) from None


# `taiyi train --run R --stage N` trains (what the SLURM job runs); `taiyi train preview` inspects.
train_app = typer.Typer(help="Train one stage, or preview what a preset trains on.")
app.add_typer(train_app, name="train")


@train_app.callback(invoke_without_command=True)
def train(
    ctx: typer.Context,
    run: str | None = typer.Option(None, "--run", help="Run name (under $TAIYI_RUNS) or path."),
    stage: int | None = typer.Option(None, "--stage", min=1, max=2, help="1 or 2."),
    preset: str | None = typer.Option(
        None, "--preset", help="Preset name/path (default: the run's frozen one)."
    ),
    sets: list[str] = typer.Option(None, "--set", help=SETS_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print the stage summary as JSON."),
) -> None:
    """Train one stage locally in this process (resumes from the latest checkpoint)."""
    from taiyi_core.train.jobs import train_stage

    if ctx.invoked_subcommand is not None:
        return
    if run is None or stage is None:
        raise typer.BadParameter("give --run and --stage (or a subcommand: preview)", ctx=ctx)
    rd, p = _run_and_preset(run, preset, sets)
    summary = train_stage(rd, p, stage=stage)  # type: ignore[arg-type]
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    table = Table(title=f"stage {stage}: {summary['status']}")
    for key in (
        "global_step",
        "max_steps",
        "train_loss",
        "resumed_from",
        "init_from_adapter",
        "packing_efficiency",
        "adapter",
        "seconds",
    ):
        table.add_row(key, str(summary.get(key)))
    console.print(table)


@train_app.command("preview")
def preview(
    preset: str = typer.Option(..., "--preset", help="Preset name in jobs/ or a YAML path."),
    data: Path = typer.Option(
        ..., "--data", exists=True, dir_okay=False, help='JSONL, one {"messages": [...]} per line.'
    ),
    n: int | None = typer.Option(None, "--n", min=1, help="Only the first N conversations."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per conversation."),
) -> None:
    """Show what the preset trains on: its tokenizer and format, loss-bearing tokens highlighted."""
    from taiyi_core.config import load_preset
    from taiyi_core.train.chat_format import ConversationError
    from taiyi_core.train.preview import TRAINED_STYLE, encode_preview, highlighted

    try:
        tokenizer, records = encode_preview(load_preset(preset), data, n)
    except (ConversationError, ValueError) as exc:
        print_error(Console(stderr=True), str(exc))
        raise typer.Exit(2) from exc
    if as_json:
        for rec in records:
            typer.echo(json.dumps(rec, ensure_ascii=False))
        return
    for rec in records:
        console.rule(f"{rec['sample']} ({rec['format']})")
        console.print(highlighted(tokenizer, rec), highlight=False, markup=False)
        console.print(
            f"tokens {rec['tokens']}, trained {rec['trained_tokens']}"
            + (", truncated to max_length" if rec["truncated"] else ""),
            style="italic",
        )
    total = sum(r["tokens"] for r in records)
    trained = sum(r["trained_tokens"] for r in records)
    console.print(
        f"{len(records)} conversation(s): {total} tokens, {trained} trained "
        f"([{TRAINED_STYLE}]highlighted[/]), {total - trained} context"
    )


@app.command("merge")
def merge(
    run: str = typer.Option(..., "--run", help="Run name (under $TAIYI_RUNS) or path."),
    stage: int = typer.Option(2, "--stage", min=1, max=2, help="Whose adapter to merge."),
    preset: str | None = typer.Option(
        None, "--preset", help="Preset name/path (default: the run's frozen one)."
    ),
    sets: list[str] = typer.Option(None, "--set", help=SETS_HELP),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Merge the stage's adapter into the base model (runs/<run>/train/merged) for serving."""
    from taiyi_core.train.jobs import merge_adapter

    rd, p = _run_and_preset(run, preset, sets)
    summary = merge_adapter(rd, p, stage=stage)  # type: ignore[arg-type]
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    else:
        console.print(f"merged {summary['adapter']} -> {summary['merged']} ({summary['dtype']})")
