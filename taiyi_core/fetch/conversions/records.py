"""Releases whose records are spread over several files or nested: joined or flattened into the one file
per split the entry's reader reads (cMedQA2, SciFact, MedDialog-EN, plain-text books)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from taiyi_core.atomic import write_text
from taiyi_core.fetch.convert import conversion
from taiyi_core.fetch.errors import FetchError


def _one(folder: Path, pattern: str) -> Path:
    found = sorted(p for p in folder.glob(pattern) if p.is_file())
    if len(found) != 1:
        raise FetchError(f"{pattern!r} matches {len(found)} files under {folder} (expected one)")
    return found[0]


def _csv_rows(path: Path, encoding: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise FetchError(f"{path.name}: missing column(s) {missing} (header: {reader.fieldnames})")
        return list(reader)


@conversion("cmedqa2_join")
def cmedqa2_join(folder: Path, questions: str, answers: str, splits: dict[str, str],
                 encoding: str = "utf-8") -> list[str]:
    """questions.csv + answers.csv + <split>_candidates.txt (positive pairs) -> one CSV per split with
    question_id, question, answer. Train candidates list ``pos_ans_id`` (and a negative); dev/test list
    ``ans_id`` with ``label`` 1 for a positive answer."""
    qtext = {r["question_id"]: r["content"] for r in _csv_rows(_one(folder, questions), encoding,
                                                                ("question_id", "content"))}
    atext = {r["ans_id"]: r["content"] for r in _csv_rows(_one(folder, answers), encoding,
                                                           ("ans_id", "question_id", "content"))}
    written = []
    for out, pattern in splits.items():
        path = _one(folder, pattern)
        with path.open(encoding=encoding, newline="") as fh:
            rows = list(csv.DictReader(fh))
        pairs: dict[tuple[str, str], None] = {}
        for n, row in enumerate(rows, 2):
            if "pos_ans_id" in row:
                pair = (row["question_id"], row["pos_ans_id"])
            elif "ans_id" in row and "label" in row:
                if row["label"].strip() != "1":
                    continue
                pair = (row["question_id"], row["ans_id"])
            else:
                raise FetchError(f"{path.name}, line {n}: expected pos_ans_id, or ans_id and label columns")
            for key, table, what in ((pair[0], qtext, "question"), (pair[1], atext, "answer")):
                if key not in table:
                    raise FetchError(f"{path.name}, line {n}: {what} id {key!r} is not in the {what}s file")
            pairs[pair] = None
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["question_id", "question", "answer"])
        writer.writerows((q, qtext[q], atext[a]) for q, a in pairs)
        write_text(folder / out, buf.getvalue())
        written.append(out)
    return written


@conversion("scifact_claim_labels")
def scifact_claim_labels(folder: Path, splits: dict[str, str]) -> list[str]:
    """claims_<split>.jsonl (labels inside ``evidence``, keyed by abstract id) -> {"id", "claim", "label"}:
    SUPPORT or CONTRADICT from the evidence sets, NOINFO without evidence. A claim whose abstracts
    disagree is refused by id (SciFact's claims have one label)."""
    written = []
    for out, pattern in splits.items():
        path = _one(folder, pattern)
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            claim = json.loads(line)
            labels = {ev["label"] for sets in (claim.get("evidence") or {}).values() for ev in sets}
            if len(labels) > 1:
                raise FetchError(f"{path.name}, line {n}: claim {claim.get('id')}: evidence labels disagree "
                                 f"({sorted(labels)})")
            label = labels.pop() if labels else "NOINFO"
            rows.append({"id": claim["id"], "claim": claim["claim"], "label": label})
        write_text(folder / out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        written.append(out)
    return written


@conversion("meddialog_utterances")
def meddialog_utterances(folder: Path, splits: dict[str, str]) -> list[str]:
    """english-<split>.json ([{description, utterances: ["patient: ...", ...]}]) -> an array of
    {"utterance", "speaker"} per split, speaker = the lower-cased prefix before the first ':'. An
    utterance without a ``patient:`` / ``doctor:`` prefix is refused with its file and dialogue (an
    unlabelled utterance would pass as a record with no speaker)."""
    written = []
    for out, pattern in splits.items():
        path = _one(folder, pattern)
        dialogues = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(dialogues, list):
            raise FetchError(f"{path.name}: expected a JSON array of dialogues")
        rows = []
        for i, dialogue in enumerate(dialogues):
            for utterance in dialogue.get("utterances") or []:
                speaker, sep, text = utterance.partition(":")
                if not sep or speaker.strip().lower() not in ("patient", "doctor"):
                    raise FetchError(f"{path.name}: dialogue {i}: utterance {utterance[:40]!r} has no "
                                     "'patient:' or 'doctor:' prefix")
                rows.append({"utterance": text.strip(), "speaker": speaker.strip().lower()})
        write_text(folder / out, json.dumps(rows, ensure_ascii=False, indent=1))
        written.append(out)
    return written


@conversion("text_files_to_jsonl")
def text_files_to_jsonl(folder: Path, pattern: str, out: str, encoding: str = "utf-8") -> list[str]:
    """Each plain-text file -> one {"id": file stem, "text": content} line (e.g. the 33 textbooks)."""
    found = sorted(p for p in folder.glob(pattern) if p.is_file())
    if not found:
        raise FetchError(f"{pattern!r} matches no file under {folder}")
    lines = [json.dumps({"id": p.stem, "text": p.read_text(encoding=encoding)}, ensure_ascii=False) + "\n"
             for p in found]
    write_text(folder / out, "".join(lines))
    return [out]


EVIDENCE_QUESTION = ("With respect to {outcome}, characterize the reported difference between {intervention} "
                     "and {comparator}.")


@conversion("evidence_inference_join")
def evidence_inference_join(folder: Path, prompts: str, annotations: str,
                            splits: dict[str, str]) -> list[str]:
    """prompts_merged.csv + annotations_merged.csv joined on PromptID -> one CSV per split (articles of
    that split's id list) with PromptID, PMCID, UserID, question, evidence, label.

    One row per annotation (each annotator's label and evidence span); annotations the release itself
    marks invalid (``Valid Label`` or ``Valid Reasoning`` False, which includes every 'invalid prompt')
    are left out (the release's own validity flags). The question is the authors' prompt built from
    Outcome, Intervention and Comparator (their trailing spaces trimmed). An annotation without an
    evidence span (the pilot file has some) is kept: the reader sees it.
    """
    prompt_rows = _csv_rows(_one(folder, prompts), "utf-8-sig", ("PromptID", "PMCID", "Outcome",
                                                                 "Intervention", "Comparator"))
    by_id = {r["PromptID"].strip(): r for r in prompt_rows}
    notes = _csv_rows(_one(folder, annotations), "utf-8-sig", ("PromptID", "PMCID", "UserID", "Valid Label",
                                                               "Valid Reasoning", "Label", "Annotations"))
    written = []
    for out, pattern in splits.items():
        ids_path = _one(folder, pattern)
        articles = set(ids_path.read_text(encoding="utf-8-sig").split())
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["PromptID", "PMCID", "UserID", "question", "evidence", "label"])
        for n, note in enumerate(notes, 2):
            pmcid = note["PMCID"].strip()
            if pmcid not in articles:
                continue
            if note["Valid Label"].strip() != "True" or note["Valid Reasoning"].strip() != "True":
                continue
            prompt = by_id.get(note["PromptID"].strip())
            if prompt is None:
                raise FetchError(f"{annotations}, line {n}: PromptID {note['PromptID']!r} is not in "
                                 f"{prompts}")
            question = EVIDENCE_QUESTION.format(outcome=prompt["Outcome"].strip(),
                                                intervention=prompt["Intervention"].strip(),
                                                comparator=prompt["Comparator"].strip())
            writer.writerow([prompt["PromptID"].strip(), pmcid, note["UserID"].strip(), question,
                             note["Annotations"].strip(), note["Label"].strip()])
        write_text(folder / out, buf.getvalue())
        written.append(out)
    return written
