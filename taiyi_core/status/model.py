"""The objects the status tool passes between its three layers: collect -> join -> render."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from taiyi_core.launch import slurm_state

# The state sets are launch/slurm_state.py's (one set for status, the launcher and resubmit); a job in
# FAILED_STATES gets a failure classification.
FAILED_STATES = slurm_state.FAILED
ACTIVE_STATES = slurm_state.RUNNING
WAITING_STATES = slurm_state.WAITING
DONE_STATES = slurm_state.DONE

# Order in which steps are shown; steps not listed follow in manifest order.
STEP_ORDER = ("data", "curate", "stage1", "stage2", "eval", "merge", "report")


@dataclass(frozen=True)
class SacctRow:
    """One accounting record of one job (or array task); a requeued job has one per run (-D)."""

    job_id: str
    raw_id: str
    state: str
    exit_code: str
    elapsed_s: int
    timelimit_s: int | None
    nodes: int
    tres: dict[str, float]
    reason: str
    submit: str
    start: str
    end: str
    total_cpu_s: float | None = None  # CPU time used (user + system) by all of the job's steps
    max_rss_gb: float | None = None  # peak resident memory of any one task over the job's steps
    gpu_mem_gb: float | None = None  # TRESUsageInMax gres/gpumem (only where the cluster accounts it)
    gpu_util: float | None = None  # TRESUsageInMax gres/gpuutil, percent


@dataclass(frozen=True)
class SqueueRow:
    """One live job (or array task) as the controller sees it."""

    job_id: str
    state: str
    reason: str
    expected_start: str | None
    restarts: int
    elapsed_s: int
    timelimit_s: int | None
    nodes: int
    tres: dict[str, float]


@dataclass(frozen=True)
class CommandResult:
    """What one SLURM command answered: its text, or why there is none."""

    argv: tuple[str, ...]
    ok: bool
    stdout: str = ""
    error: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class RundirEvidence:
    """What a job left in its submitit folder (the only evidence for local jobs)."""

    result: str | None = None  # "success" | "error" | None (no result pickle)
    traceback: str | None = None
    log_paths: tuple[str, ...] = ()
    log_tail: str = ""
    process_alive: bool | None = None  # local executor: is the job's pid alive on this host
    log_start: float | None = None  # unix time of submitit's "Starting with JobEnvironment" line
    log_end: float | None = None  # unix time of submitit's last "Job completed/failed"/"Exiting" line
    result_mtime: float | None = None  # newest result pickle: submitit writes it as the job ends
    submitted_mtime: float | None = None  # <job_id>_submitted.pkl, written at submission
    logs_mtime: float | None = None  # newest write to any of the job's log files


@dataclass
class Failure:
    kind: str  # gpu_oom | host_oom | time_limit | preempted | nccl | cuda_setup | python_exception | unknown
    summary: str
    last_frame: str | None = None
    log: str | None = None


@dataclass
class JobStatus:
    submission_id: int
    step: str
    job_id: str
    task: str | None
    executor: str
    state: str
    source: str  # sacct | squeue | rundir | none
    superseded: bool = False
    exit_code: str | None = None
    elapsed_s: int | None = None
    timelimit_s: int | None = None
    nodes: int | None = None
    restarts: int = 0
    reason: str | None = None
    expected_start: str | None = None
    gpu_hours: float | None = None
    cpu_hours: float | None = None
    # resource use from accounting (None where sacct has no record of it); SCHEMA.md, "Resources"
    cpu_efficiency: float | None = None  # 0-1
    max_rss_gb: float | None = None
    gpu_mem_gb: float | None = None  # TRES gres/gpumem, only on clusters that account GPU memory
    gpu_util: float | None = None  # TRES gres/gpuutil, percent
    failure: Failure | None = None
    log: str | None = None
    # when the job ran, and where the times come from (SCHEMA.md, "Job times")
    started_at: str | None = None
    ended_at: str | None = None
    elapsed_source: str | None = None  # sacct | squeue | submitit_log | result_pickle | file_mtime | ...
    elapsed_approximate: bool = False


@dataclass
class TrainProgress:
    stage: int
    step: int | None = None
    total_steps: int | None = None
    epoch: float | None = None
    loss: float | None = None
    tokens_per_s: float | None = None
    eta_s: float | None = None
    last_log_age_s: float | None = None
    done: bool = False
    stalled: bool = False
    last_checkpoint: str | None = None
    last_checkpoint_age_s: float | None = None
    curve: list[tuple[int, float]] = field(default_factory=list)
    train_loss: float | None = None  # mean loss of the whole stage (done row / stage.json)
    stage_status: str | None = None  # stage.json "status": done | stopped
    stop_reason: str | None = None
    summary: str | None = None  # path of the stage.json that was used
    peak_gpu_mem_gb: float | None = None  # the trainer's own gpu_mem_gb log field, highest value
    bad_log_lines: int = 0  # lines of log.jsonl that are not JSON objects (damage, or a line being written)


@dataclass
class StepStatus:
    name: str
    state: str
    counts: dict[str, int]
    jobs: list[JobStatus]
    gpu_hours: float | None
    cpu_hours: float | None
    progress: TrainProgress | None = None
    in_process: bool = False  # no job of this step in the manifest: the state comes from its outputs


@dataclass
class EvalRow:
    dataset: str
    task: str | None
    lang: str | None
    metric: str
    n: int | None
    score: float | None  # 0-100
    paper_name: str | None = None
    taiyi: float | None = None
    chatgpt: float | None = None
    sota: float | None = None
    sota_model: str | None = None
    # the scoring definition of Taiyi's/ChatGPT's numbers (``score`` is ours under it) and of the SOTA
    # number, with our score under that one (None: ``sota_note`` says why); taiyi_core/tasks/README.md
    definition: str | None = None
    sota_definition: str | None = None
    score_sota_definition: float | None = None  # 0-100
    sota_note: str = ""


@dataclass
class EvalProgress:
    """How far evaluation of one set has come: predictions written of the set's instances."""

    dataset: str
    written: int
    total: int | None  # None when the eval set file is not there to count
    scored: bool  # metrics.json exists


@dataclass
class FileError:
    """A file of the run that could not be read; the rest of the status is still shown."""

    file: str
    problem: str


@dataclass
class RunStatus:
    run: str
    root: str
    generated_at: str
    mode: str  # slurm | degraded | local | no_slurm | in_process
    message: str | None
    steps: list[StepStatus]
    gpu_hours: float | None
    cpu_hours: float | None
    eval_rows: list[EvalRow]
    eval_source: str | None
    data_totals: dict[str, Any] | None
    manifest: dict[str, Any]
    slurm_calls: list[dict[str, Any]] = field(default_factory=list)
    eval_progress: list[EvalProgress] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
