"""``taiyi-status --watch`` in real 120x40 and 80x24 terminals (a tmux pane, read back with capture-pane):
the header and every step of the run are on screen, nothing is cut at the right edge.

SLURM's answers come from stand-in ``sacct``/``squeue`` scripts that print the fixture captures
(tests/status/data), so the view is the paper fixture's 21 jobs over 8 steps."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import DATA

SOCKET = "taiyi-status-test"  # a private tmux server: only ours is started and killed


def _fake_slurm(bin_dir: Path) -> None:
    bin_dir.mkdir()
    for name, capture in (("sacct", "sacct_run.txt"), ("squeue", "squeue_run.txt")):
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\ncat '{DATA / capture}'\n")
        script.chmod(0o755)


def _tmux(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, timeout=30)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed (apt-get install tmux)")
@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_watch_fits_the_pane_and_shows_every_step(fixture_run, tmp_path, size):
    WIDTH, HEIGHT = size
    _fake_slurm(tmp_path / "bin")
    status = Path(sys.executable).with_name("taiyi-status")
    command = (
        # COLUMNS/LINES from the test process would override the pane's size in rich: not inherited
        f"env -u COLUMNS -u LINES PATH={tmp_path / 'bin'}:/usr/bin:/bin TERM=xterm-256color "
        f"{status} {fixture_run.run.root} --watch --interval 1"
    )
    _tmux("kill-server")
    started = _tmux("new-session", "-d", "-s", "watch", "-x", str(WIDTH), "-y", str(HEIGHT), command)
    assert started.returncode == 0, started.stderr
    try:
        screen = ""
        deadline = time.time() + 60
        while time.time() < deadline:
            time.sleep(1.0)
            screen = _tmux("capture-pane", "-p", "-t", "watch").stdout
            if "total" in screen:
                break
        lines = screen.rstrip("\n").splitlines()
        assert lines[0].startswith("run paper-fixture"), screen  # the header is not scrolled away
        assert len(lines) <= HEIGHT and max(len(line) for line in lines) <= WIDTH, screen
        rows = {line.split("│")[1].strip() for line in lines if line.count("│") > 2}
        for step in ("data", "curate", "stage1", "stage2", "eval", "merge", "report", "ablation"):
            assert step in rows, f"step {step} is not on screen:\n{screen}"
        assert "total" in rows and "17 jobs" in screen
    finally:
        _tmux("kill-server")
