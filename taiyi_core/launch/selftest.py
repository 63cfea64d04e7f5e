"""The one-second job ``taiyi doctor --submit`` sends to prove a cluster runs the suite's jobs.

The other small jobs the launcher tests submit (arrays, afterok, DDP, failures, pipeline entries)
are test code: ``tests/launch/jobs.py``.
"""

from __future__ import annotations

import os
import socket
from typing import Any


def hello(tag: str = "hello") -> dict[str, Any]:
    return {
        "tag": tag,
        "host": socket.gethostname(),
        "job_id": os.environ.get("SLURM_JOB_ID"),
        "array_task": os.environ.get("SLURM_ARRAY_TASK_ID"),
        "pid": os.getpid(),
    }
