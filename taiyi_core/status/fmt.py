"""Small formatting helpers shared by the table and the HTML report."""

from __future__ import annotations

from taiyi_core.status.model import ACTIVE_STATES, DONE_STATES, FAILED_STATES, WAITING_STATES


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if d:
        return f"{d}d{h:02d}h{m:02d}m"
    if h:
        return f"{h}h{m:02d}m"
    return f"{m}m{s:02d}s"


def elapsed(seconds: float | None, approximate: bool = False) -> str:
    """A job's elapsed time; ``~`` marks one reconstructed from file times (see SCHEMA.md)."""
    text = duration(seconds)
    return f"~{text}" if approximate and seconds is not None else text


def hours(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}"


def number(v: float | None, nd: int = 1) -> str:
    return "-" if v is None else f"{v:,.{nd}f}"


def state_colour(state: str) -> str:
    """A colour name usable by rich and by CSS for a job or step state."""
    if state in DONE_STATES:
        return "green"
    if state == "CANCELLED":
        return "magenta"
    if state in FAILED_STATES:
        return "red"
    if state in ACTIVE_STATES:
        return "cyan"
    if state in WAITING_STATES:
        return "yellow"
    return "grey"


def counts_text(counts: dict[str, int]) -> str:
    """``2 COMPLETED, 1 FAILED`` in a fixed order (the table and tests read it back)."""
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no jobs"


def resources(
    cpu_efficiency: float | None, rss_gb: float | None, gpu_mem_gb: float | None, gpu_util: float | None
) -> str:
    """``87% 3.0G g61G/94%``: CPU efficiency, peak RSS, GPU memory/utilisation (what accounting has)."""
    parts = []
    if cpu_efficiency is not None:
        parts.append(f"{cpu_efficiency * 100:.0f}%")
    if rss_gb is not None:
        parts.append(f"{rss_gb:.1f}G")
    if gpu_mem_gb is not None or gpu_util is not None:
        util = f"/{gpu_util:.0f}%" if gpu_util is not None else ""
        parts.append(f"g{gpu_mem_gb:.0f}G{util}" if gpu_mem_gb is not None else f"g{util[1:]}")
    return " ".join(parts) or "-"
