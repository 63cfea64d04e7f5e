"""Record builders and hypothesis strategies shared by the task tests."""

from __future__ import annotations

from hypothesis import strategies as st

from taiyi_core.schema import (
    DialogueRecord,
    KBRecord,
    PairRecord,
    QARecord,
    T2TRecord,
    TextRecord,
    TranslationRecord,
)

SRC = {"file": "fixture.json", "line": 1}
# Latin, Chinese, full-width punctuation and every separator our shapes use, on purpose.
ALPHA = "abcXY 疾病药物细胞;:,[]()；：，。、|\"\n-"
# names that hold the target shapes' own separators (real ones: BC5CDR's "Wy-14, 643")
HOSTILE = ["Wy-14, 643", "a; b", "x]; [y", '"quoted"', 'say "no"', "IL-2|IL-4", "a:b", "None", "无",
           "doc.", "疾病，药物；检查：血常规、尿常规", "line\nbreak", "[x, y]", '"; "']
text = st.text(alphabet=ALPHA, min_size=1, max_size=30)
word = st.text(alphabet="abcXYZ疾病药物细胞-", min_size=1, max_size=8)
label = st.one_of(word, word, text, st.sampled_from(HOSTILE))  # mostly clean labels, sometimes hostile
# the dataset-level lists a data step passes (kb_records draws its types from these)
ENTITY_TYPES = ["Chemical", "疾病", "Gene or protein", "a:b"]
RELATION_TYPES = ["CID", "药物治疗"]
EVENT_TYPES = ["Binding", "临床发现"]
ROLE_TYPES = ["Theme", "Cause", "部位"]


def kb(text: str, entities=(), relations=(), events=(), lang="en", rid="d1") -> KBRecord:
    return KBRecord(
        id=rid,
        dataset="toy",
        split="test",
        lang=lang,
        source=SRC,
        document_id=rid,
        text=text,
        entities=list(entities),
        relations=list(relations),
        events=list(events),
    )


def ent(eid: str, etype: str, text: str, start: int, norm=()) -> dict:
    return {
        "id": eid,
        "type": etype,
        "text": text,
        "spans": [(start, start + len(text))],
        "normalized": [{"db": "MESH", "id": i} for i in norm],
    }


@st.composite
def kb_records(draw) -> KBRecord:
    t = draw(st.one_of(text, text, st.sampled_from(HOSTILE).map(lambda h: f"{h} and {h}")))
    n = draw(st.integers(0, 4))
    entities = []
    for i in range(n):
        s = draw(st.integers(0, len(t) - 1))
        e = draw(st.integers(s + 1, len(t)))
        etype = draw(st.sampled_from(ENTITY_TYPES))
        norm = draw(st.lists(st.sampled_from(["D001", "肺恶性肿瘤", "C0;1", "D1; D2", '"x"']), max_size=2))
        entities.append(ent(f"T{i}", etype, t[s:e], s, norm))
    relations, events = [], []
    if entities:
        for j in range(draw(st.integers(0, 3))):
            h, tl = draw(st.sampled_from(entities)), draw(st.sampled_from(entities))
            rtype = draw(st.sampled_from(RELATION_TYPES))
            relations.append({"id": f"R{j}", "type": rtype, "head": h["id"], "tail": tl["id"]})
        for j in range(draw(st.integers(0, 2))):
            trig = draw(st.sampled_from(entities))
            args = [
                {
                    "role": draw(st.sampled_from(ROLE_TYPES)),
                    "ref": draw(st.sampled_from(entities))["id"],
                }
                for _ in range(draw(st.integers(0, 2)))
            ]
            events.append(
                {
                    "id": f"E{j}",
                    "type": draw(st.sampled_from(EVENT_TYPES)),
                    "trigger": {**trig, "id": f"E{j}t"},
                    "arguments": args,
                }
            )
    return kb(t, entities, relations, events)


@st.composite
def text_records(draw) -> TextRecord:
    label_set = draw(st.lists(label, min_size=1, max_size=4, unique=True))
    labels = draw(st.lists(st.sampled_from(label_set), max_size=3))
    return TextRecord(
        id="t1",
        dataset="toy",
        split="test",
        lang="en",
        source=SRC,
        text=draw(text),
        labels=labels,
        label_set=label_set,
    )


@st.composite
def pair_records(draw) -> PairRecord:
    label_set = draw(st.lists(label, min_size=1, max_size=3, unique=True))
    return PairRecord(
        id="p1",
        dataset="toy",
        split="test",
        lang="en",
        source=SRC,
        text_1=draw(text),
        text_2=draw(text),
        label=draw(st.sampled_from(label_set)),
        label_set=label_set,
    )


@st.composite
def mc_records(draw) -> QARecord:
    choices = draw(st.lists(text, min_size=2, max_size=5))
    answer = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=2))
    return QARecord(
        id="q1",
        dataset="toy",
        split="test",
        lang="en",
        source=SRC,
        type="multiple_choice",
        question=draw(text),
        context=draw(st.sampled_from(["", "Some context；上下文"])),
        choices=choices,
        answer=answer,
    )


@st.composite
def yesno_records(draw) -> QARecord:
    ans = draw(st.sampled_from(["yes", "no", "maybe", "Yes", "是", "否"]))
    return QARecord(
        id="q2",
        dataset="toy",
        split="test",
        lang="en",
        source=SRC,
        type="yesno",
        question=draw(text),
        context=draw(text),
        choices=["yes", "no", "maybe"],
        answer=[ans],
    )


@st.composite
def open_qa_records(draw) -> QARecord:
    return QARecord(
        id="q3",
        dataset="toy",
        split="test",
        lang="zh",
        source=SRC,
        type="context",
        question=draw(text),
        context=draw(text),
        answer=[draw(text)],
    )


@st.composite
def dialogue_records(draw) -> DialogueRecord:
    n = draw(st.integers(1, 3))
    turns = [{"role": r, "text": draw(text)} for _ in range(n) for r in ("user", "assistant")]
    return DialogueRecord(id="c1", dataset="toy", split="test", lang="zh", source=SRC, turns=turns)


@st.composite
def translation_records(draw) -> TranslationRecord:
    src, tgt = draw(st.sampled_from([("en", "zh"), ("zh", "en")]))
    return TranslationRecord(
        id="m1",
        dataset="toy",
        split="test",
        lang=src,
        source=SRC,
        source_lang=src,
        target_lang=tgt,
        source_text=draw(text),
        target_text=draw(text),
    )


@st.composite
def t2t_records(draw, kind: str) -> T2TRecord:
    fields = draw(st.dictionaries(text, st.text(alphabet=ALPHA, max_size=20), min_size=1, max_size=4))
    return T2TRecord(
        id="s1",
        dataset="toy",
        split="test",
        lang="zh",
        source=SRC,
        type=kind,
        input=draw(text),
        output=draw(text),
        fields=fields if kind in ("report", "structure") else {},
    )
