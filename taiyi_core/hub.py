"""Jobs and the Hugging Face Hub: offline unless the profile says ``hub_online: true``.

A job that reached the Hub would download at import time on a compute node (and time out where
nodes have no internet). bitsandbytes >= 0.49 on a CPU with AVX512-BF16 asks the Hub for a kernel
repository when it is imported (``kernels.get_kernel``); it falls back to its own kernel when that
fails, but logs a warning that even suggests ``trust_remote_code=True``. The suite never wants that
kernel, so the probe's log lines are silenced in every process of the suite.
"""

from __future__ import annotations

import logging
import os

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
# the loggers of the bitsandbytes kernel probe (bitsandbytes/backends/*/ops.py) and of the `kernels`
# package it calls ("Skipping publisher trust check ... offline mode"); the suite uses no Hub kernel
_PROBE_LOGGERS = ("bitsandbytes.backends.cpu.ops", "bitsandbytes.backends.mps.ops", "kernels")


def silence_kernel_probe() -> None:
    """Hide the bitsandbytes Hub-kernel probe's warning and the ``kernels`` offline notice."""
    for name in _PROBE_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def job_environment(hub_online: bool) -> dict[str, str]:
    """Set (and return) the Hub variables of a job process before anything imports transformers."""
    silence_kernel_probe()
    if hub_online:
        return {}
    os.environ.update(OFFLINE_ENV)
    return dict(OFFLINE_ENV)
