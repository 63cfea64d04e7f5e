"""What submitit leaves in a job folder, read one way for taiyi-status and resubmit alike.

``<job>_<rank>_log.out`` / ``.err``, ``<job>_<rank>_result.pkl`` (``("success", value)`` or
``("error", traceback)``) and ``<job>_submitted.pkl`` (the call, which resubmit loads through
submitit's own ``DelayedSubmission``). Result pickles are read without unpickling anything.
"""

from __future__ import annotations

import os
import pickletools
import re
from pathlib import Path


def read_result_pickle(path: Path) -> tuple[str | None, str | None]:
    """("success"|"error", traceback) from a submitit result pickle, without unpickling anything.

    submitit pickles ``("success", result)`` or ``("error", traceback_text)``; the strings are read
    from the opcode stream, so results whose classes cannot be imported here are no problem.
    """
    try:
        with path.open("rb") as fh:
            strings: list[str] = []
            for op, arg, _ in pickletools.genops(fh):
                if isinstance(arg, str) and "UNICODE" in op.name:
                    strings.append(arg)
                    if strings[0] != "error" or len(strings) >= 2:
                        break
    except (OSError, ValueError, EOFError):
        return None, None
    if not strings or strings[0] not in ("success", "error"):
        return None, None
    return strings[0], (strings[1] if strings[0] == "error" and len(strings) > 1 else None)


def job_files(folder: Path, job_id: str) -> tuple[list[Path], list[Path]]:
    """(log files, result pickles) of one job in its submitit folder: <job_id>_<rank>_log.{out,err}."""
    if not folder.is_dir():
        return [], []
    pat = re.compile(rf"^{re.escape(job_id)}_(\d+)_(log\.out|log\.err|result\.pkl)$")
    logs: list[Path] = []
    results: list[Path] = []
    for entry in os.scandir(folder):
        m = pat.match(entry.name)
        if m:
            (results if m.group(2) == "result.pkl" else logs).append(Path(entry.path))
    # rank 0 first, stderr before stdout: the reported log path is rank 0's stderr
    logs.sort(key=lambda p: (int(pat.match(p.name).group(1)), not p.name.endswith(".err")))  # type: ignore[union-attr]
    results.sort()
    return logs, results
