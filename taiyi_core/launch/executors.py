"""Build a submitit executor from a cluster profile and a step's resources.

Backends sit side by side behind submitit's one interface: ``local`` (subprocesses on this machine,
no SLURM), ``debug`` (in-process, for stepping through a job) and ``slurm``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import submitit

from taiyi_core.config import ConfigError, Profile, Resources


def slurm_parameters(profile: Profile, res: Resources, job_name: str) -> dict[str, Any]:
    """submitit SlurmExecutor parameters for one step (sbatch options by their submitit names)."""
    s = profile.slurm
    params: dict[str, Any] = {
        "job_name": job_name,
        "nodes": res.nodes,
        "ntasks_per_node": res.tasks_per_node,
        "cpus_per_task": res.cpus_per_task,
        "mem": f"{int(res.mem_gb * 1024)}M",
        "time": res.timeout_min,
        "array_parallelism": res.array_parallelism,
        "signal_delay_s": s.signal_delay_s,
        "comment": f"taiyi:{job_name}",
    }
    if res.gpus_per_node:
        if profile.max_gpus_per_node is not None and res.gpus_per_node > profile.max_gpus_per_node:
            raise ConfigError(
                f"profile {profile.name!r}: job {job_name!r} asks for {res.gpus_per_node} GPUs per node, "
                f"the cluster has {profile.max_gpus_per_node} (max_gpus_per_node)"
            )
        if s.gpu_type:
            params["gres"] = f"gpu:{s.gpu_type}:{res.gpus_per_node}"
        else:
            params["gpus_per_node"] = res.gpus_per_node
    for key in ("partition", "account", "qos", "constraint"):
        value = getattr(s, key)
        if value:
            params[key] = value
    if s.exclusive:
        params["exclusive"] = True
    if s.setup:
        params["setup"] = list(s.setup)
    if s.additional:
        params["additional_parameters"] = dict(s.additional)
    return params


def make_executor(
    profile: Profile,
    res: Resources,
    folder: Path,
    job_name: str,
    python: str | None = None,
) -> submitit.Executor:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if profile.executor == "debug":
        return submitit.DebugExecutor(folder=folder)
    if profile.executor == "local":
        local = submitit.LocalExecutor(folder=folder, python=python)
        local.update_parameters(
            timeout_min=res.timeout_min,
            tasks_per_node=res.tasks_per_node,
            gpus_per_node=res.gpus_per_node,
        )
        return local
    executor = submitit.SlurmExecutor(folder=folder, python=python, max_num_timeout=10)
    executor.update_parameters(**slurm_parameters(profile, res, job_name))
    return executor


def supports_dependencies(profile: Profile) -> bool:
    return profile.executor == "slurm"
