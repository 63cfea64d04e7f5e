"""Joining the manifest with sacct/squeue fixture text and the run directory."""

from __future__ import annotations

import pytest

from taiyi_core.status.collect import collect
from taiyi_core.status.join import build_status


def _jobs(status):
    return {j.job_id: j for s in status.steps for j in s.jobs}


def test_one_sacct_and_one_squeue_call_with_array_ids_folded(fixture_run):
    collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query)
    assert len(fixture_run.asked) == 1  # one query for the whole run
    ids = fixture_run.asked[0]
    assert "48151_0" in ids and "48377_6" in ids  # the manifest's ids go in; the array is asked once
    from taiyi_core.status.slurm import query_ids, sacct_argv

    argv = sacct_argv(query_ids(ids))
    assert argv[argv.index("-j") + 1].split(",").count("48377") == 1


def test_states_counts_and_reasons(fixture_run):
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query))
    assert st.mode == "slurm" and st.message is None
    steps = {s.name: s for s in st.steps}
    assert [s.name for s in st.steps] == [
        "data",
        "curate",
        "stage1",
        "stage2",
        "eval",
        "merge",
        "report",
        "ablation",
    ]
    assert steps["data"].counts == {"COMPLETED": 3, "OUT_OF_MEMORY": 1}  # 48151_2 superseded by 48160
    assert steps["data"].state == "FAILED"
    assert steps["stage1"].counts == {"COMPLETED": 1} and steps["stage1"].state == "COMPLETED"
    assert steps["stage2"].counts == {"RUNNING": 1} and steps["stage2"].state == "RUNNING"
    assert steps["eval"].counts == {"COMPLETED": 1, "RUNNING": 1, "PREEMPTED": 1, "FAILED": 1, "PENDING": 3}
    assert steps["report"].state == "PENDING" and steps["ablation"].counts == {"CANCELLED": 1}
    assert steps["ablation"].state == "CANCELLED"
    jobs = _jobs(st)
    assert jobs["48151_2"].superseded and not jobs["48160"].superseded
    assert jobs["48400"].reason == "Dependency"
    assert jobs["48401"].reason == "JobHeldUser"
    assert (
        jobs["48377_5"].reason == "JobArrayTaskLimit"
        and jobs["48377_5"].expected_start == "2026-11-21T11:30:00"
    )
    assert jobs["48377_6"].state == "PENDING"  # from the sacct range 48377_[4-6%3] and squeue -r
    assert jobs["48310"].restarts == 1 and jobs["48310"].source == "sacct+squeue"
    assert jobs["48310"].elapsed_s == 7200


def test_failures_classified_with_log_paths(fixture_run):
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query))
    jobs = _jobs(st)
    expect = {
        "48151_2": "python_exception",
        "48151_3": "host_oom",
        "48195": "cuda_setup",
        "48198": "nccl",
        "48302": "time_limit",
        "48377_2": "preempted",
        "48377_3": "gpu_oom",
        "48402": "cancelled",
    }
    for jid, kind in expect.items():
        assert jobs[jid].failure is not None and jobs[jid].failure.kind == kind, jid
    assert jobs["48151_2"].failure.last_frame.endswith("cblue.py:112 in read")
    assert jobs["48151_2"].log == str(fixture_run.run.logs("data") / "48151_2_0_log.err")
    for jid in ("48151_0", "48310", "48377_1", "48400"):
        assert jobs[jid].failure is None


def test_cost_from_alloc_tres_times_elapsed(fixture_run):
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query))
    steps = {s.name: s for s in st.steps}
    # stage1: 8 GPUs (typed gres/gpu:a100=8 is the same GPUs, not 8 more) x (41 + 5460 + 25200) s
    assert steps["stage1"].gpu_hours == pytest.approx(8 * (41 + 5460 + 25200) / 3600, abs=1e-3)
    assert steps["stage1"].cpu_hours == pytest.approx(64 * (41 + 5460 + 25200) / 3600, abs=1e-3)
    # stage2 counts the requeued run too: 86460 (timeout) + 3600 (requeued) + 7200 (running)
    assert steps["stage2"].gpu_hours == pytest.approx(8 * (86460 + 3600 + 7200) / 3600, abs=1e-3)
    assert steps["eval"].gpu_hours == pytest.approx((1830 + 1200 + 262 + 95) / 3600, abs=1e-3)
    assert st.gpu_hours == pytest.approx(sum(s.gpu_hours or 0 for s in st.steps), abs=1e-3)


def test_training_progress(fixture_run):
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query))
    steps = {s.name: s for s in st.steps}
    p1, p2 = steps["stage1"].progress, steps["stage2"].progress
    assert p1.done and p1.eta_s == 0 and p1.step == 500
    assert p2.step == 1200 and p2.total_steps == 5610 and not p2.done and not p2.stalled
    assert p2.eta_s == pytest.approx((5610 - 1200) * 4.0, rel=1e-6)  # 10 steps per 40 s
    assert p2.last_checkpoint == "step-001000" and p2.last_checkpoint_age_s == pytest.approx(1800, abs=5)
    stalled = build_status(
        collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query), stall_after_s=60
    )
    assert {s.name: s for s in stalled.steps}["stage2"].progress.stalled


def test_eval_beside_paper_and_data_totals(fixture_run):
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query))
    rows = {r.dataset: r for r in st.eval_rows}
    assert rows["BC5CDR-Chem"].score == pytest.approx(78.1) and rows["BC5CDR-Chem"].taiyi == 80.2
    assert rows["BC5CDR-Chem"].sota == 93.3 and rows["BC5CDR-Chem"].sota_model == "PubMedBERT"
    assert rows["pubmedqa"].paper_name == "PubMedQA" and rows["pubmedqa"].metric == "accuracy"
    assert rows["lab-notes"].taiyi is None  # not one of the paper's sets
    assert st.data_totals == {"read": 500, "written": 498, "quarantined": 2, "tokens": 401233}


@pytest.mark.parametrize(
    ("name", "paper_name", "taiyi"),
    [
        ("bc5cdr_chem", "BC5CDR-Chem", 80.2),
        ("bc5cdr_dise", "BC5CDR-Dise", 69.1),
        ("chemdner", "CHEMDNER", 79.9),
        ("ncbi_disease", "NCBI-disease", 73.1),
        ("cmeee_v2", "CMeEE (CMeEE-V2 dev)", 65.7),
        ("bc5cdr_re", "BC5CDR (CID relation)", 37.5),
        ("cmeie_v2", "CMeIE (CMeIE-V2 dev)", 43.2),
        ("bc7_litcovid", "BC7LitCovid", 84.0),
        ("hoc", "HoC (Hallmarks of Cancer)", 80.0),
        ("hallmarks_of_cancer", "HoC (Hallmarks of Cancer)", 80.0),
        ("kuake_qic", "KUAKE-QIC (dev)", 77.4),
        ("pubmedqa", "PubMedQA", 54.4),
        ("pubmed_qa", "PubMedQA", 54.4),
        ("medqa_usmle", "MedQA-USMLE", 37.1),
        ("med_qa_usmle", "MedQA-USMLE", 37.1),
        ("medqa_mcmle", "MedQA-MCMLE", 64.8),
        ("med_qa_mcmle", "MedQA-MCMLE", 64.8),
        ("bc5cdr-disease", "BC5CDR-Dise", 69.1),
        ("CMeEE", "CMeEE (CMeEE-V2 dev)", 65.7),
    ],
)
def test_eval_and_catalog_names_find_the_paper_row(name, paper_name, taiyi):
    from taiyi_core.status.evaluation import eval_rows

    (row,) = eval_rows([{"dataset": name, "f1": 0.5}])
    assert (row.paper_name, row.taiyi) == (paper_name, taiyi)


def test_sets_outside_the_papers_13_have_no_paper_numbers():
    from taiyi_core.status.evaluation import eval_rows

    rows = eval_rows([{"dataset": n, "f1": 0.5} for n in ("biored_ner", "ddi", "chip_ctc")])
    assert [(r.paper_name, r.taiyi, r.sota) for r in rows] == [(None, None, None)] * 3


def test_degraded_mode_says_so_and_uses_squeue_and_rundir(fixture_run):
    # result pickles, as submitit writes them, for two jobs that left the queue
    import pickle

    folder = fixture_run.run.logs("data")
    with open(folder / "48151_0_0_result.pkl", "wb") as fh:
        pickle.dump(("success", {"written": 498}), fh)
    with open(folder / "48151_3_0_result.pkl", "wb") as fh:
        pickle.dump(
            ("error", 'Traceback (most recent call last):\n  File "x.py", line 3, in f\nMemoryError\n'), fh
        )
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query_degraded))
    assert st.mode == "degraded"
    assert "DEGRADED" in st.message and "Connection refused" in st.message
    jobs = _jobs(st)
    assert jobs["48310"].state == "RUNNING" and jobs["48310"].source == "squeue"
    assert jobs["48400"].reason == "Dependency"
    assert jobs["48151_0"].state == "COMPLETED" and jobs["48151_0"].source == "rundir"
    assert jobs["48151_3"].state == "FAILED" and jobs["48151_3"].failure.kind == "host_oom"
    assert jobs["48151_1"].state == "UNKNOWN"  # no result file, not in the queue: said, not guessed
    assert st.gpu_hours is None  # no accounting, no cost


def test_no_slurm_at_all(fixture_run):
    from taiyi_core.status.model import CommandResult

    def down(ids):
        return (
            CommandResult(("sacct",), ok=False, error="sacct: command not found"),
            CommandResult(("squeue",), ok=False, error="squeue: command not found"),
        )

    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=down))
    assert st.mode == "no_slurm" and "run directory alone" in st.message


def test_bad_sacct_text_names_the_line(fixture_run):
    fixture_run.sacct = "48151_0|48152|COMPLETED\n"
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query))
    err = next(e for e in st.errors if e.file == "sacct output")
    assert "sacct output line 1: expected 15" in err.problem
    assert {j.state for s in st.steps for j in s.jobs} - {"UNKNOWN"}  # squeue and the run dir still answer


def test_scoreboard_preferred_over_metrics_and_bad_shape_named(fixture_run):
    import json

    board = fixture_run.run.root / "eval" / "scoreboard.json"
    board.write_text(json.dumps({"datasets": {"MedQA-MCMLE": {"accuracy": 0.611, "n": 3426, "lang": "zh"}}}))
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query))
    assert [r.dataset for r in st.eval_rows] == ["MedQA-MCMLE"] and st.eval_source == str(board)
    assert st.eval_rows[0].score == pytest.approx(61.1) and st.eval_rows[0].taiyi == 64.8
    board.write_text(json.dumps({"datasets": [1, 2]}))
    st = build_status(collect(fixture_run.run, now=fixture_run.now, query=fixture_run.query))
    assert [e.file for e in st.errors] == [str(board)]
    assert "unexpected scoreboard shape" in st.errors[0].problem
    assert {r.dataset for r in st.eval_rows} == {"BC5CDR-Chem", "pubmedqa", "lab-notes"}  # metrics instead
