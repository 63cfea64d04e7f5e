"""Submit pipeline steps through submitit, chained with afterok, recorded in the run manifest."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import submitit
from pydantic import Field

from taiyi_core import lifecycle
from taiyi_core.config import (
    PRESETS_DIR,
    ConfigError,
    Preset,
    Profile,
    Resources,
    Strict,
    config_hash,
    read_yaml,
    validate,
)
from taiyi_core.launch import slurm_state
from taiyi_core.launch.calls import FunctionCall, StepCall, StepNotBuilt, resolve_entry
from taiyi_core.launch.executors import make_executor, supports_dependencies
from taiyi_core.launch.manifest import Manifest, Submission, git_commit
from taiyi_core.rundir import RunDir

PIPELINE_FILE = PRESETS_DIR / "pipeline.yaml"


class StepSpec(Strict):
    description: str = ""
    entry: str
    items: str | None = None
    kwargs: dict[str, Any] = Field(default_factory=dict)
    after: list[str] = Field(default_factory=list)
    distributed: bool = False
    needs_model: bool = False  # loads model.name_or_path: refused at submission when it is not there


class PipelineSpec(Strict):
    steps: dict[str, StepSpec]
    groups: dict[str, list[str]]

    def group(self, name: str) -> list[str]:
        if name in self.groups:
            return self.groups[name]
        if name in self.steps:
            return [name]
        raise ConfigError(
            f"unknown step {name!r}; steps: {', '.join(self.steps)}; groups: {', '.join(self.groups)}"
        )


def load_pipeline(path: Path = PIPELINE_FILE) -> PipelineSpec:
    spec = validate(PipelineSpec, read_yaml(path), path)
    for name, step in spec.steps.items():
        for dep in step.after:
            if dep not in spec.steps:
                raise ConfigError(f"{path}: steps.{name}.after: unknown step {dep!r}")
    return spec


class JobFailed(RuntimeError):
    """A job failed; the message carries the step, job id, log path and the job's own traceback."""

    def __init__(self, step: str, job_id: str, log: Path, detail: str):
        self.step, self.job_id, self.log = step, job_id, log
        super().__init__(f"step {step!r} job {job_id} failed (log: {log})\n{detail}")


@dataclass
class Submitted:
    step: str
    job: submitit.Job[Any]
    record: Submission

    @property
    def job_id(self) -> str:
        return str(self.job.job_id)

    def result(self) -> Any:
        return wait([self])[0]


def wait(submitted: Sequence[Submitted]) -> list[Any]:
    """Wait for jobs; the first failure raises JobFailed with the remote traceback and the log path."""
    results = []
    for sub in submitted:
        try:
            results.append(sub.job.result())
        except submitit.core.utils.UncompletedJobError as exc:
            raise JobFailed(sub.step, sub.job_id, Path(sub.job.paths.stderr), str(exc)) from None
        except submitit.core.utils.FailedJobError as exc:
            raise JobFailed(sub.step, sub.job_id, Path(sub.job.paths.stderr), str(exc)) from None
    return results


RAW_DATA_STEPS = frozenset({"data"})  # steps that read data.raw_dir


class Launcher:
    """Submits steps of one run under one profile and records every submission."""

    def __init__(
        self,
        run: RunDir,
        profile: Profile,
        preset_path: Path | str | None = None,
        dry_run: bool = False,
        overrides: Sequence[str] = (),
    ):
        """Nothing is written here: the run folder, its frozen preset and its manifest appear with
        the first submission (so a refused or dry-run submission changes nothing on disk).
        ``preset_path``: a preset name or file; None reuses the run's frozen preset if it has one."""
        self.run = run
        self.profile = profile
        self.dry_run = dry_run
        self.manifest = Manifest(run.manifest)
        self._preset = (
            lifecycle.resolve(run, preset_path, overrides)
            if preset_path is not None or overrides or run.preset.is_file()
            else None
        )
        self.preset: Preset | None = self._preset.preset if self._preset else None
        self.preset_path: Path | None = run.preset if self._preset else None  # what jobs read
        self._source = str(preset_path) if preset_path is not None else None
        self.commit = git_commit()

    def _materialise(self) -> None:
        """The run folder, frozen preset and manifest, written just before the first job is queued."""
        if self.dry_run:
            raise ConfigError("a dry-run launcher queues nothing")
        self.run.ensure()
        if self._preset is not None:
            lifecycle.freeze(self.run, self._preset)
        self.manifest.init(self.run.name, self._source, self.profile.name)

    # ------------------------------------------------------------------ low level

    def resources(self, step: str) -> Resources:
        res = self.preset.resources_for(step) if self.preset else Resources()
        override = self.profile.resources.get(step)
        return override.apply(res) if override else res

    def _python(self) -> str | None:
        if not self.profile.container:
            return None
        from taiyi_core.launch.container import python_for_profile

        data_dir = None
        if self.preset is not None:
            raw = Path(self.preset.data.raw_dir).expanduser()
            raw = raw.resolve()  # the preset loader made it absolute (from the working directory)
            data_dir = raw if raw.is_dir() else None
        return python_for_profile(self.profile, self.run, data_dir=data_dir)

    def _executor(self, step: str, res: Resources, depends_on: Sequence[str]) -> submitit.Executor:
        executor = make_executor(
            self.profile, res, self.run.logs(step), f"{self.run.name}-{step}", self._python()
        )
        if depends_on:
            if not supports_dependencies(self.profile):
                raise ConfigError(f"profile {self.profile.name!r} cannot express job dependencies")
            executor.update_parameters(dependency="afterok:" + ":".join(depends_on))
        return executor

    def _record(
        self,
        step: str,
        jobs: list[submitit.Job[Any]],
        tasks: list[str | None],
        res: Resources,
        depends_on: Sequence[str],
        chash: str,
        resubmit_of: Sequence[str | None] | None = None,
    ) -> list[Submission]:
        entries = []
        for i, (job, task) in enumerate(zip(jobs, tasks, strict=True)):
            jid = str(job.job_id)
            array_id, _, index = jid.partition("_") if "_" in jid else (None, "", None)
            entries.append(
                {
                    "step": step,
                    "job_id": jid,
                    "array_job_id": array_id,
                    "array_index": int(index) if index not in (None, "") else None,
                    "task": task,
                    "executor": self.profile.executor,
                    "profile": self.profile.name,
                    "config_hash": chash,
                    "git_commit": self.commit,
                    "folder": str(self.run.logs(step)),
                    "depends_on": list(depends_on),
                    "resubmit_of": resubmit_of[i] if resubmit_of else None,
                    "nodes": res.nodes,
                    "gpus": res.gpus_per_node * res.nodes,
                    "cpus": res.cpus_per_task * res.tasks_per_node * res.nodes,
                }
            )
        return self.manifest.append(entries)

    def submit_calls(
        self,
        step: str,
        calls: Sequence[Any],
        *,
        tasks: Sequence[str | None] | None = None,
        resources: Resources | None = None,
        depends_on: Sequence[str] = (),
        resubmit_of: Sequence[str | None] | None = None,
    ) -> list[Submitted]:
        """Submit one job per call: a single job, or a job array when there are several calls."""
        res = resources or self.resources(step)
        self._materialise()
        executor = self._executor(step, res, depends_on)
        if len(calls) == 1:
            jobs = [executor.submit(calls[0])]
        else:
            with executor.batch():
                jobs = [executor.submit(c) for c in calls]
        chash = config_hash(self.preset or {}, self.profile, {"step": step})
        task_names: list[str | None] = list(tasks) if tasks is not None else [None] * len(jobs)
        records = self._record(step, jobs, task_names, res, depends_on, chash, resubmit_of)
        return [Submitted(step, j, r) for j, r in zip(jobs, records, strict=True)]

    def submit_function(
        self,
        step: str,
        func: Any,
        *args: Any,
        distributed: bool = False,
        resources: Resources | None = None,
        depends_on: Sequence[str] = (),
        **kwargs: Any,
    ) -> Submitted:
        return self.submit_calls(
            step, [FunctionCall(func, args, kwargs, distributed)], resources=resources, depends_on=depends_on
        )[0]

    def map_array(
        self,
        step: str,
        func: Any,
        items: Sequence[Any],
        *,
        resources: Resources | None = None,
        depends_on: Sequence[str] = (),
    ) -> list[Submitted]:
        calls = [FunctionCall(func, (item,)) for item in items]
        return self.submit_calls(
            step, calls, tasks=[str(i) for i in items], resources=resources, depends_on=depends_on
        )

    # ------------------------------------------------------------------ pipeline steps

    def step_calls(self, name: str, spec: StepSpec) -> tuple[list[StepCall], list[str | None]]:
        if self.preset_path is None or self.preset is None:
            raise ConfigError(f"step {name!r} needs a preset")
        resolve_entry(spec.entry)  # fail here, not on the cluster, when the step is not built
        if spec.items is None:
            items: list[str | None] = [None]
        else:
            items = list(resolve_entry(spec.items)(self.preset))
            if not items:
                raise ConfigError(f"step {name!r}: the preset selects nothing to run ({spec.items})")
        calls = [
            StepCall(
                spec.entry,
                str(self.run.root),
                str(self.preset_path),
                item,
                dict(spec.kwargs),
                spec.distributed,
                self.profile.hub_online,
            )
            for item in items
        ]
        return calls, items

    def pending_prerequisites(self, pipeline: PipelineSpec, name: str) -> list[str]:
        """Job ids of earlier submissions this step must wait for (still queued or running).

        Raises when a prerequisite failed: queuing behind a failed job would wait forever.
        """
        ids = [
            s.job_id
            for dep in pipeline.steps[name].after
            for s in self.manifest.latest(dep)
            if s.executor == "slurm"
        ]
        states = slurm_state.job_states(ids)
        waiting = []
        for jid in ids:
            state = states.get(jid, "UNKNOWN")
            if state in slurm_state.NOT_ENDED:
                waiting.append(jid)
            elif state not in slurm_state.DONE and state != "UNKNOWN":
                raise JobFailed(
                    name,
                    jid,
                    self.run.logs(name),
                    f"prerequisite job {jid} ended {state}; resubmit it first (taiyi resubmit)",
                )
        return waiting

    def check(self, names: Sequence[str], pipeline: PipelineSpec) -> list[dict[str, Any]]:
        """One row per step: what it would queue, and the problems that make a submission refuse it.

        ``plan`` shows these rows; ``submit_steps`` refuses before anything is written when any row has
        a problem, so a plan never lists steps that a submission then refuses.
        """
        from taiyi_core.launch.executors import slurm_parameters

        rows = []
        model_problem = self._model_problem() if any(pipeline.steps[n].needs_model for n in names) else None
        known = set(pipeline.steps) | set(load_pipeline().steps)  # the shipped steps, and this pipeline's
        if self._preset is not None:
            unknown = sorted(set(self._preset.preset.resources) - known)
            if unknown:
                raise ConfigError(
                    f"{self._preset.file}: key 'resources.{unknown[0]}': not a pipeline step; "
                    f"steps: {', '.join(sorted(known))}"
                )
        for name in names:
            spec = pipeline.steps[name]
            res = self.resources(name)
            row: dict[str, Any] = {
                "step": name,
                "entry": spec.entry,
                "after": spec.after,
                "distributed": spec.distributed,
                "resources": res.model_dump(),
                "built": True,
                "items": None,
                "problems": [],
            }
            try:
                resolve_entry(spec.entry)
                if spec.items:
                    if self.preset is None:
                        raise ConfigError(f"step {name!r} needs a preset")
                    row["items"] = list(resolve_entry(spec.items)(self.preset))
                    if not row["items"]:
                        row["problems"].append(
                            f"step {name!r}: the preset selects nothing to run ({spec.items})"
                        )
            except StepNotBuilt as exc:
                row["built"], row["note"] = False, str(exc)
                row["problems"].append(f"step {name!r} is not built yet ({exc})")
            frozen = self._preset
            raw = Path(frozen.preset.data.raw_dir) if frozen is not None else None
            if name in RAW_DATA_STEPS and frozen is not None and raw is not None and not raw.is_dir():
                # the reason the step selects nothing: say that instead
                row["problems"] = [f"{frozen.file}: key 'data.raw_dir': folder {raw} not found"]
            if spec.needs_model and model_problem:
                row["problems"].append(model_problem)
            if self.profile.executor == "slurm":
                row["sbatch"] = slurm_parameters(self.profile, res, f"{self.run.name}-{name}")
            rows.append(row)
        return rows

    def _model_problem(self) -> str | None:
        """The preset's model is a folder or in the HF cache (jobs run offline), else one line naming it."""
        if self._preset is None:
            return None
        from taiyi_core.model_check import model_problem

        return model_problem(self._preset.preset.model, str(self._preset.file))

    def plan(self, group: str, pipeline: PipelineSpec | None = None) -> list[dict[str, Any]]:
        """What ``submit_group`` would queue, without queuing anything (for --dry-run)."""
        pipeline = pipeline or load_pipeline()
        return self.check(pipeline.group(group), pipeline)

    def submit_group(
        self, group: str, pipeline: PipelineSpec | None = None, wait_locally: bool = True
    ) -> dict[str, list[Submitted]]:
        """Submit the steps of a group in order, each depending on the one before."""
        pipeline = pipeline or load_pipeline()
        return self.submit_steps(pipeline.group(group), pipeline, wait_locally)

    def submit_steps(
        self, names: list[str], pipeline: PipelineSpec, wait_locally: bool = True
    ) -> dict[str, list[Submitted]]:
        """Submit these steps in order (afterok on SLURM; one after another locally)."""
        for row in self.check(names, pipeline):  # the plan's checks, before anything is written
            if not row["built"]:
                raise StepNotBuilt(row["problems"][0])
            if row["problems"]:
                raise ConfigError(row["problems"][0])
        submitted: dict[str, list[Submitted]] = {}
        for name in names:
            spec = pipeline.steps[name]
            deps = [s.job_id for d in spec.after if d in submitted for s in submitted[d]]
            if not deps and spec.after and supports_dependencies(self.profile):
                deps = self.pending_prerequisites(pipeline, name)
            if not supports_dependencies(self.profile):
                for d in spec.after:  # local: run in order, waiting for what came before
                    if d in submitted:
                        wait(submitted[d])
                deps = []
            calls, items = self.step_calls(name, spec)
            submitted[name] = self.submit_calls(
                name, calls, tasks=items if spec.items else None, depends_on=deps
            )
        if wait_locally and not supports_dependencies(self.profile):
            for subs in submitted.values():
                wait(subs)
        return submitted
