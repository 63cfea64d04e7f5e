"""A self-contained HTML report: inline CSS, plots as base64 PNG, the same facts as the table."""

from __future__ import annotations

from html import escape

from taiyi_core.status import fmt, plots
from taiyi_core.status.evaluation import eval_summary
from taiyi_core.status.model import WAITING_STATES, RunStatus
from taiyi_core.status.render_json import totals

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:8px 0;font-size:13px;background:#fff}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f0f0} td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.step td{background:#eef3fa;font-weight:600} tr.superseded td{color:#999}
.state{font-weight:700} .green{color:#1b7f2a} .red{color:#c62828} .yellow{color:#a87900}
.cyan{color:#00838f} .magenta{color:#8e24aa} .grey{color:#777}
.warn{background:#fff4d6;border:1px solid #e6c060;padding:8px 12px}
.fail{color:#c62828} .dim{color:#777;font-size:12px} img{max-width:100%;border:1px solid #ddd;background:#fff}
"""


def _num(v: object) -> str:
    return f"<td class='num'>{escape(str(v))}</td>"


def _elapsed(seconds: float | None, approximate: bool, source: str) -> str:
    """The elapsed cell; its tooltip names where the time comes from (``~``: reconstructed)."""
    title = f"{source} (approximate)" if approximate else source
    return f"<td class='num' title='{escape(title)}'>{escape(fmt.elapsed(seconds, approximate))}</td>"


def _table(table_id: str, columns: tuple[str, ...]) -> str:
    """The opening of a table with its header row (the body rows and ``</tbody></table>`` follow)."""
    head = "".join(f"<th>{c}</th>" for c in columns)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>'


def _plot(png: str | None, img_id: str, alt: str) -> list[str]:
    """An inline base64 PNG plot, or nothing when there was nothing to plot."""
    return [f'<p><img id="{img_id}" alt="{alt}" src="data:image/png;base64,{png}"></p>'] if png else []


def _state(state: str) -> str:
    return f'<span class="state {fmt.state_colour(state)}">{escape(state)}</span>'


def _jobs(status: RunStatus) -> str:
    columns = (
        "Step / job",
        "Task",
        "State",
        "Elapsed",
        "Restarts",
        "GPU h",
        "CPU h",
        "Counts / reason / failure",
    )
    rows = [_table("jobs", columns)]
    for step in status.steps:
        rows.append(
            f'<tr class="step" data-step="{escape(step.name)}"><td>{escape(step.name)}</td><td></td>'
            f"<td>{_state(step.state)}</td><td></td>{_num(sum(j.restarts for j in step.jobs))}"
            f"{_num(fmt.hours(step.gpu_hours))}{_num(fmt.hours(step.cpu_hours))}"
            f'<td class="counts">{escape(fmt.counts_text(step.counts))}</td></tr>'
        )
        for j in step.jobs:
            if j.failure is not None:
                detail = f'<span class="fail">[{escape(j.failure.kind)}] {escape(j.failure.summary)}</span>'
                if j.failure.last_frame:
                    detail += f'<br><span class="dim">at {escape(j.failure.last_frame)}</span>'
                detail += f'<br><span class="dim">log: {escape(j.log or "no log file found")}</span>'
            else:
                bits = [
                    b
                    for b in (j.reason, f"expected start {j.expected_start}" if j.expected_start else None)
                    if b
                ]
                detail = escape("; ".join(bits))
            cls = ' class="superseded"' if j.superseded else ""
            secs = j.elapsed_s if j.state not in WAITING_STATES else None
            rows.append(
                f"<tr{cls} data-job='{escape(j.job_id)}'><td>{escape(j.job_id)}</td>"
                f"<td>{escape(j.task or '')}</td><td>{_state(j.state)}</td>"
                f"{_elapsed(secs, j.elapsed_approximate, j.elapsed_source or '')}"
                f"{_num(j.restarts)}{_num(fmt.hours(j.gpu_hours))}{_num(fmt.hours(j.cpu_hours))}"
                f"<td>{detail}</td></tr>"
            )
    tot = totals(status)
    rows.append(
        f"<tr class='step'><td>total</td><td></td><td></td><td></td><td></td>"
        f"{_num(fmt.hours(tot['gpu_hours']))}{_num(fmt.hours(tot['cpu_hours']))}"
        f"<td>{tot['jobs']} jobs: {escape(fmt.counts_text(tot['states']))}</td></tr>"
    )
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _training(status: RunStatus) -> str:
    prog = [s.progress for s in status.steps if s.progress is not None]
    if not prog:
        return "<p>No training logs yet.</p>"
    columns = ("Stage", "Step", "Epoch", "Loss", "Stage loss", "tokens/s", "ETA", "Last checkpoint", "Log")
    out = [_table("training", columns)]
    for p in prog:
        log = f"{fmt.duration(p.last_log_age_s)} ago" + (' <b class="red">STALLED</b>' if p.stalled else "")
        ckpt = (
            f"{p.last_checkpoint} ({fmt.duration(p.last_checkpoint_age_s)} ago)" if p.last_checkpoint else "-"
        )
        out.append(
            f"<tr><td>{p.stage}</td><td class='num'>{p.step}/{p.total_steps or '?'}</td>"
            f"{_num(fmt.number(p.epoch, 2))}{_num(fmt.number(p.loss, 4))}"
            f"{_num(fmt.number(p.train_loss, 4))}"
            f"{_num(fmt.number(p.tokens_per_s, 0))}"
            f"<td>{'done' if p.done else 'stopped' if p.stage_status == 'stopped' else fmt.duration(p.eta_s)}"
            f"</td><td>{escape(ckpt)}</td>"
            f"<td>{log}</td></tr>"
        )
    out.append("</tbody></table>")
    out += _plot(plots.loss_curves(prog), "loss-plot", "training loss curves")
    return "\n".join(out)


def _eval(status: RunStatus) -> str:
    if not status.eval_rows:
        return "<p>No evaluation results yet.</p>"
    columns = ("Dataset", "Lang", "Task", "Metric", "n", "Definition", "Score", "Taiyi", "ChatGPT",
               "Score (SOTA def)", "SOTA", "SOTA definition", "SOTA model")  # fmt: skip
    out = [f'<p class="dim">source: {escape(status.eval_source or "")}</p>', _table("eval", columns)]
    for r in status.eval_rows:
        has = r.score_sota_definition is not None
        ours_sota = fmt.number(r.score_sota_definition) if has else r.sota_note
        out.append(
            f"<tr><td>{escape(r.dataset)}</td><td>{escape(r.lang or '')}</td><td>{escape(r.task or '')}</td>"
            f"<td>{escape(r.metric)}</td><td class='num'>{r.n if r.n is not None else '-'}</td>"
            f"<td>{escape(r.definition or '')}</td>"
            f"<td class='num'>{fmt.number(r.score)}</td><td class='num'>{fmt.number(r.taiyi)}</td>"
            f"<td class='num'>{fmt.number(r.chatgpt)}</td><td class='num'>{escape(ours_sota or '-')}</td>"
            f"<td class='num'>{fmt.number(r.sota)}</td><td>{escape(r.sota_definition or '')}</td>"
            f"<td>{escape(r.sota_model or '')}</td></tr>"
        )
    s = eval_summary(status.eval_rows)
    out.append(
        f"<tr class='step'><td>mean of {s['matched_to_paper']} matched</td>{'<td></td>' * 5}"
        f"{_num(fmt.number(s['mean_score']))}{_num(fmt.number(s['mean_taiyi']))}"
        f"<td></td><td></td>{_num(fmt.number(s['mean_sota']))}<td></td><td></td></tr></tbody></table>"
    )
    out += _plot(plots.score_bars(status.eval_rows), "score-plot", "scores vs Taiyi and SOTA")
    return "\n".join(out)


def _value(v: object) -> str:
    """A data-report value: numbers with separators, nested counts as a small table (never a dict repr)."""
    if isinstance(v, dict):
        rows = "".join(
            f"<tr><th>{escape(str(k))}</th><td class='num'>{_value(x)}</td></tr>" for k, x in v.items()
        )
        return f"<table class='nested'>{rows}</table>"
    if isinstance(v, list):
        return escape(", ".join(str(x) for x in v))
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return escape(str(v))


def _data(status: RunStatus) -> str:
    if not status.data_totals:
        return "<p>No data report yet.</p>"
    cells = "".join(
        f"<tr><th>{escape(str(k))}</th><td class='num'>{_value(v)}</td></tr>"
        for k, v in status.data_totals.items()
    )
    return f'<table id="data">{cells}</table>'


def _errors(status: RunStatus) -> str:
    if not status.errors:
        return ""
    items = "".join(f"<li><code>{escape(e.file)}</code>: {escape(e.problem)}</li>" for e in status.errors)
    return f'<h2>Unreadable files</h2><ul id="errors" class="red">{items}</ul>'


def render_html(status: RunStatus) -> str:
    warn = f'<p class="warn">{escape(status.message)}</p>' if status.message else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>taiyi-status: {escape(status.run)}</title>
<style>{CSS}</style></head>
<body>
<h1>Run {escape(status.run)}</h1>
<p class="dim">{escape(status.root)} · generated {escape(status.generated_at)}
· mode <b>{escape(status.mode)}</b> · preset {escape(str(status.manifest.get("preset")))}
· profile {escape(str(status.manifest.get("profile")))}</p>
{warn}
{_errors(status)}
<h2>Jobs by step</h2>
{_jobs(status)}
<h2>Training</h2>
{_training(status)}
<h2>Evaluation</h2>
{_eval(status)}
<h2>Data</h2>
{_data(status)}
</body></html>
"""
