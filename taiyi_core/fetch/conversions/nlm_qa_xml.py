"""NLM consumer-health question XML (TREC 2017 LiveQA medical, MEDIQA 2019 QA and RQE) to JSON lines.

Traps of the real files (shared/samples/SOURCES-2.md): the LiveQA training files differ from each other
(Train-1: ``questionid``, UTF-8 BOM absent; Train-2: ``qid``, BOM and CRLF, sub-questions and answers
without ids; test: ``qid="TQ1"`` and answers under ``RefAnswer`` or ``ReferenceAnswer``), answers carry
hard line breaks and tab indentation, and subjects may be empty. Whitespace inside a text is collapsed
to single spaces; a question without any answer is written with an empty answer, so that the data step
quarantines and counts it instead of it vanishing here.
"""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from taiyi_core.atomic import write_text
from taiyi_core.fetch.convert import conversion
from taiyi_core.fetch.errors import FetchError

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _text(el: etree._Element | None) -> str:
    return " ".join("".join(el.itertext()).split()) if el is not None else ""


def _parse(folder: Path, pattern: str) -> list[tuple[Path, etree._Element]]:
    found = sorted(folder.glob(pattern))
    if not found:
        raise FetchError(f"{pattern!r} matches no file under {folder}")
    out = []
    for path in found:
        try:
            out.append((path, etree.parse(str(path), _PARSER).getroot()))
        except etree.XMLSyntaxError as exc:
            raise FetchError(f"{path.name}: not well-formed XML: {exc}") from None
    return out


def _write(folder: Path, name: str, rows: list[dict]) -> str:
    if not rows:
        raise FetchError(f"{name}: no record found in the source files")
    write_text(folder / name, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return name


def _question(q: etree._Element) -> str:
    """SUBJECT + MESSAGE (the subject is often a topic the message does not repeat)."""
    holder = q.find("Original-Question")
    holder = holder if holder is not None else q
    subject, message = _text(holder.find("SUBJECT")), _text(holder.find("MESSAGE"))
    if subject and not message.lower().startswith(subject.lower()):
        return f"{subject}. {message}" if message else subject
    return message or subject


def _liveqa_rows(path: Path, root: etree._Element) -> list[dict]:
    rows = []
    for n, q in enumerate(root.iter("NLM-QUESTION"), 1):
        qid = q.get("questionid") or q.get("qid") or str(n)
        answers: list[str] = []
        for sub in q.iter("SUB-QUESTION"):  # training files: the first answer of each sub-question
            first = next((_text(a) for a in sub.iter("ANSWER") if _text(a)), "")
            if first and first not in answers:
                answers.append(first)
        if not answers:  # test file: reference answers (both spellings of the element)
            refs = [r for r in q.iter("RefAnswer", "ReferenceAnswer")]
            answers = [t for t in (_text(r.find("ANSWER")) for r in refs[:1]) if t]
        rows.append({"id": f"{path.stem}:{qid}", "question": _question(q), "answer": "\n\n".join(answers)})
    return rows


@conversion("liveqa_xml")
def liveqa_xml(folder: Path, splits: dict[str, list[str]]) -> list[str]:
    """``splits``: output JSONL -> globs of the TREC LiveQA XML files it gathers."""
    written = []
    for out, patterns in splits.items():
        rows = [row for pattern in patterns for path, root in _parse(folder, pattern)
                for row in _liveqa_rows(path, root)]
        written.append(_write(folder, out, rows))
    return written


@conversion("mediqa_rqe_xml")
def mediqa_rqe_xml(folder: Path, splits: dict[str, str]) -> list[str]:
    """``<pair pid value><chq/><faq/></pair>`` -> {"id", "chq", "faq", "value"} per output JSONL."""
    written = []
    for out, pattern in splits.items():
        rows = []
        for path, root in _parse(folder, pattern):
            for pair in root.iter("pair"):
                value = (pair.get("value") or "").strip().lower()
                if value not in ("true", "false"):
                    raise FetchError(f"{path.name}: pair {pair.get('pid')!r}: value {value!r} is not "
                                     "true or false")
                rows.append({"id": f"{path.stem}:{pair.get('pid')}", "chq": _text(pair.find("chq")),
                             "faq": _text(pair.find("faq")), "value": value})
        written.append(_write(folder, out, rows))
    return written


@conversion("mediqa_qa_xml")
def mediqa_qa_xml(folder: Path, splits: dict[str, list[str]]) -> list[str]:
    """``<Question QID><QuestionText/><AnswerList><Answer ReferenceRank>`` -> {"id", "question", "context",
    "answer"}: context = every retrieved answer text in system order, answer = the one ranked 1 by the
    reference (ReferenceRank="1")."""
    written = []
    for out, patterns in splits.items():
        rows = []
        for pattern in patterns:
            for path, root in _parse(folder, pattern):
                for q in root.iter("Question"):
                    answers = list(q.iter("Answer"))
                    best = next((a for a in answers if (a.get("ReferenceRank") or "").strip() == "1"), None)
                    rows.append({
                        "id": f"{path.stem}:{q.get('QID')}", "question": _text(q.find("QuestionText")),
                        "context": "\n\n".join(_text(a.find("AnswerText")) for a in answers),
                        "answer": _text(best.find("AnswerText")) if best is not None else "",
                    })
        written.append(_write(folder, out, rows))
    return written
