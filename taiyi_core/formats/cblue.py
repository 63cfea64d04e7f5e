"""CBLUE JSON reader (option ``variant``): CMeEE(-V2), CMeIE(-V2), KUAKE-QIC, CHIP-CTC, CHIP-STS,
KUAKE-QQR, KUAKE-QTR, CHIP-CDN, CHIP-CDEE, IMCS-V2 (NER, SR, DAC, MRG), and the CHIP variants
CHIP-MDCFNPC, CMedCausal and Text2DT (cblue_chip.py, documented there).

Files are JSON arrays (often without a final newline), or JSON lines when named ``*.jsonl`` (CMeIE-V2
ships ``CMeIE-V2_{train,dev,test}.jsonl``) or when a CMeIE file does not start with ``[`` (CMeIE v1's
``.json`` are JSON lines too); parsed record by record so that one bad record or a truncated tail
quarantines only what is broken.

Traps: CMeEE ``end_idx`` is **inclusive** (checked per entity: ``text[s:e+1] == entity``; a mismatch
quarantines the record, offsets are never shifted); CMeEE entities nest (``bod`` inside ``sym``);
CMeIE gives no offsets (entities are placed at the first occurrence of their string, a string not in
the text quarantines the record) and ``object``/``object_type`` are ``{"@value": ...}`` dicts;
KUAKE-QQR uses ``query1``/``query2`` and contains label ``NA`` (map it with ``label_map``); CBLUE test
files carry no labels (such records quarantine with "lacks key"); label strings drift between
versions (``疾病表述`` vs ``疾病描述``) so pass the ``label_set`` of the version you read.

CHIP-CDEE ``{id, text, event: [{core_name, tendency, character[], anatomy_list[]}]}``: one ``Event`` of
type ``临床发现事件`` per item, its trigger the ``core_name`` and arguments ``描述词`` (character) and
``解剖部位`` (anatomy); ``tendency`` (``""``/``不确定``/``否定``) is an event attribute (``label_set``
checks the tendency values for this variant). All these strings are **normalised terms**, not text
spans (``core_name`` 疼痛 for 痛 in the text; in the real dev file more than half are not substrings):
they become entities with no spans and the attribute ``normalised: "true"``, never placed by guessing;
an empty string in ``character``/``anatomy_list`` is an empty slot and adds no argument.

IMCS-V2 (``IMCS-V2_train/dev/test.json``) is a JSON **object** keyed by example id, each ``{diagnosis,
self_report, dialogue: [{sentence_id, speaker, sentence, dialogue_act, symptom_norm, symptom_type,
BIO_label}], explicit_info, implicit_info, report: [{主诉, 现病史, 辅助检查, 既往史, 诊断, 建议}, ...]}``.
``imcs_ner``: one KBRecord per dialogue, text = ``speaker：sentence`` lines joined by ``\n``, entities
from ``BIO_label`` (a space-separated tag **per character**; a length mismatch or a forbidden IOB2
sequence quarantines the dialogue; newer releases add ``new_BIO_label``: option ``bio_key``);
``imcs_sr`` (symptom recognition): one KBRecord per dialogue as for ``imcs_ner`` but with the
``Symptom`` mentions only, each paired in order with the utterance's ``symptom_norm`` (a
normalisation) and ``symptom_type`` (0 = absent, 1 = present, 2 = uncertain; an attribute, checked
by ``label_map``/``label_set``); a count that differs from the tagged mentions quarantines the dialogue;
``imcs_dac``: one TextRecord per utterance (label = ``dialogue_act``); ``imcs_mrg``: one T2TRecord
(type report) per dialogue, input = ``【自述】`` self report + ``【对话】`` lines, output and ``fields``
from the first of the (usually two) reference reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from taiyi_core.formats import cblue_chip
from taiyi_core.formats.base import (
    Ctx,
    Reader,
    ReaderOptions,
    SkipRecord,
    check_label,
    iter_json_array,
    iter_json_object,
    iter_jsonl,
    make_entity,
    require,
)
from taiyi_core.formats.conll import iob_chunks
from taiyi_core.schema import (
    Entity,
    Event,
    EventArgument,
    KBRecord,
    Normalization,
    PairRecord,
    Passage,
    Relation,
    T2TRecord,
    TextRecord,
)

Variant = Literal[
    "cmeee",
    "cmeie",
    "kuake_qic",
    "chip_ctc",
    "chip_sts",
    "kuake_qqr",
    "kuake_qtr",
    "chip_cdn",
    "chip_cdee",
    "imcs_ner",
    "imcs_dac",
    "imcs_mrg",
    "imcs_sr",
    "mdcfnpc",
    "cmedcausal",
    "text2dt",
]
_IMCS = ("imcs_ner", "imcs_dac", "imcs_mrg", "imcs_sr")
CDEE_EVENT = "临床发现事件"
MRG_SECTIONS = ("主诉", "现病史", "辅助检查", "既往史", "诊断", "建议")

# variant -> (first text key, second text key) for the pair tasks
_PAIR_KEYS = {
    "chip_sts": ("text1", "text2"),
    "kuake_qqr": ("query1", "query2"),
    "kuake_qtr": ("query", "title"),
}
# variant -> text key for the classification tasks
_TEXT_KEYS = {"kuake_qic": "query", "chip_ctc": "text"}


class CblueOptions(ReaderOptions):
    variant: Variant
    encoding: str = "utf-8-sig"
    # end offsets inclusive? default: yes for CMeEE, no for the CHIP variants (mdcfnpc ranges, cmedcausal)
    end_inclusive: bool | None = None
    label_set: list[str] | None = None  # entity types / predicates / class labels allowed
    label_map: dict[str, str] = {}  # applied before the label_set check (e.g. QQR {"NA": "0"})
    bio_key: str = "BIO_label"  # IMCS-V2 per-character tags (``new_BIO_label`` in updated releases)
    invalid: Literal["quarantine", "begin"] = "quarantine"  # IMCS-V2 NER forbidden IOB2 sequences


class CblueReader(Reader):
    name = "cblue"
    Options = CblueOptions
    raw_kind = "json"

    def raw_json_layouts(self, options: dict[str, Any], suffix: str) -> tuple[str, ...]:
        return json_layouts(str(options.get("variant")), suffix)

    def _read(self, paths: list[Path], opts: CblueOptions, ctx: Ctx) -> Iterator:
        build = {
            "cmeee": self._cmeee,
            "cmeie": self._cmeie,
            "chip_cdn": self._cdn,
            "chip_cdee": self._cdee,
            "imcs_ner": self._imcs_ner,
            "imcs_dac": self._imcs_dac,
            "imcs_mrg": self._imcs_mrg,
            "imcs_sr": self._imcs_sr,
            "mdcfnpc": lambda obj, o, common: cblue_chip.mdcfnpc(
                obj, bool(o.end_inclusive), self._labeller(o), common
            ),
            "cmedcausal": lambda obj, o, common: cblue_chip.cmedcausal(
                obj, bool(o.end_inclusive), self._labeller(o), common
            ),
            "text2dt": lambda obj, o, common: cblue_chip.text2dt(obj, common),
        }.get(opts.variant, self._pair if opts.variant in _PAIR_KEYS else self._text)
        for path in paths:
            text = yield from ctx.text_of(path, opts.encoding, stray_bytes=True)
            if text is None:
                continue
            items = (
                iter_json_object(text)
                if opts.variant in _IMCS
                else iter_jsonl(text)
                if opts.variant == "mdcfnpc" or _json_lines(path, text, opts.variant)
                else iter_json_array(text)
            )
            for item in items:
                rid = item.key
                id_key = "dialog_id" if opts.variant == "mdcfnpc" else "id"
                if (
                    rid is None
                    and isinstance(item.value, dict)
                    and isinstance(item.value.get(id_key), str | int)
                ):
                    rid = str(item.value[id_key])
                rid = rid or f"{path.stem}-{item.index}"
                if item.error:
                    yield ctx.quarantine(path, item.error, line=item.line, record_id=None, raw=item.raw)
                    continue
                try:
                    if opts.variant != "imcs_dac":
                        ctx.claim_id(rid)
                    common = ctx.common(path, item.line, rid)
                    built = build(item.value, opts, common)
                    if isinstance(built, list):  # one record per utterance (DAC)
                        for record in built:
                            ctx.claim_id(record.id)
                        yield from built
                    else:
                        yield built
                except SkipRecord as exc:
                    yield ctx.quarantine(path, str(exc), line=item.line, record_id=rid, raw=item.raw)

    def _label(self, value: object, opts: CblueOptions, what: str = "label") -> str:
        if not isinstance(value, str | int):
            raise SkipRecord(f"{what} is {type(value).__name__}, expected a string")
        label = opts.label_map.get(str(value), str(value))
        return check_label(label, opts.label_set, what)

    def _labeller(self, opts: CblueOptions):
        return lambda value, what: self._label(value, opts, what)

    def _cmeee(self, obj: dict, opts: CblueOptions, common: dict) -> KBRecord:
        text = require(obj, "text", str)
        entities = []
        for n, ent in enumerate(require(obj, "entities", list), start=1):
            where = f"entity {n}"
            start = require(ent, "start_idx", int, where)
            end = require(ent, "end_idx", int, where) + (0 if opts.end_inclusive is False else 1)
            etype = self._label(require(ent, "type", str, where), opts, f"{where} type")
            entities.append(
                make_entity(
                    text, f"{common['id']}.T{n}", etype, [(start, end)], require(ent, "entity", str, where)
                )
            )
        return KBRecord(**common, document_id=common["id"], text=text, entities=entities)

    def _cmeie(self, obj: dict, opts: CblueOptions, common: dict) -> KBRecord:
        text = require(obj, "text", str)
        entities: dict[tuple[str, str], object] = {}
        relations = []

        def entity(surface: str, etype: str):
            key = (surface, etype)
            if key not in entities:
                start = text.find(surface) if surface else -1
                if start < 0:
                    raise SkipRecord(f"entity {surface!r} ({etype}) does not occur in the text")
                eid = f"{common['id']}.T{len(entities) + 1}"
                entities[key] = make_entity(text, eid, etype, [(start, start + len(surface))], surface)
            return entities[key]

        for n, spo in enumerate(require(obj, "spo_list", list), start=1):
            where = f"spo {n}"
            predicate = self._label(require(spo, "predicate", str, where), opts, f"{where} predicate")
            obj_value = _at_value(require(spo, "object", (dict, str), where), f"{where} object")
            obj_type = _at_value(require(spo, "object_type", (dict, str), where), f"{where} object_type")
            head = entity(require(spo, "subject", str, where), require(spo, "subject_type", str, where))
            tail = entity(obj_value, obj_type)
            relation = Relation(id=f"{common['id']}.R{n}", type=predicate, head=head.id, tail=tail.id)
            if "Combined" in spo:
                relation.attributes["combined"] = str(spo["Combined"]).lower()
            relations.append(relation)
        return KBRecord(
            **common,
            document_id=common["id"],
            text=text,
            entities=list(entities.values()),
            relations=relations,
        )

    def _text(self, obj: dict, opts: CblueOptions, common: dict) -> TextRecord:
        text = require(obj, _TEXT_KEYS[opts.variant], str)
        label = self._label(require(obj, "label"), opts)
        return TextRecord(**common, text=text, labels=[label], label_set=opts.label_set or [])

    def _pair(self, obj: dict, opts: CblueOptions, common: dict) -> PairRecord:
        k1, k2 = _PAIR_KEYS[opts.variant]
        record = PairRecord(
            **common,
            text_1=require(obj, k1, str),
            text_2=require(obj, k2, str),
            label=self._label(require(obj, "label"), opts),
            label_set=opts.label_set or [],
        )
        if isinstance(obj.get("category"), str):
            record.meta["category"] = obj["category"]
        return record

    def _cdn(self, obj: dict, opts: CblueOptions, common: dict) -> TextRecord:
        text = require(obj, "text", str)
        terms = [t.strip() for t in require(obj, "normalized_result", str).split("##") if t.strip()]
        if not terms:
            raise SkipRecord("empty normalized_result")
        labels = [check_label(t, opts.label_set, "ICD-10 term") for t in terms]
        return TextRecord(**common, text=text, labels=labels, label_set=opts.label_set or [])

    def _cdee(self, obj: dict, opts: CblueOptions, common: dict) -> KBRecord:
        text = require(obj, "text", str)
        rid = common["id"]
        found: dict[tuple[str, str], Entity] = {}

        def entity(term: object, etype: str, where: str) -> Entity:
            if not isinstance(term, str) or not term.strip():
                raise SkipRecord(f"{where} is {term!r}, expected a non-empty string")
            if (term, etype) not in found:  # a normalised term: no spans
                found[(term, etype)] = Entity(
                    id=f"{rid}.T{len(found) + 1}", type=etype, text=term, spans=[],
                    attributes={"normalised": "true"},
                )
            return found[(term, etype)]

        events = []
        for n, item in enumerate(require(obj, "event", list), start=1):
            where = f"event {n}"
            trigger = entity(require(item, "core_name", str, where), "主体词", f"{where} core_name")
            tendency = self._label(require(item, "tendency", str, where), opts, f"{where} tendency")
            arguments = []
            for key, role in (("character", "描述词"), ("anatomy_list", "解剖部位")):
                for value in require(item, key, list, where):
                    if value == "":  # an empty slot in the annotation (real dev id 1739): no argument
                        continue
                    arguments.append(EventArgument(role=role, ref=entity(value, role, f"{where} {key}").id))
            events.append(
                Event(
                    id=f"{rid}.E{n}",
                    type=CDEE_EVENT,
                    trigger=trigger,
                    arguments=arguments,
                    attributes={"tendency": tendency} if tendency else {},
                )
            )
        triggers = {ev.trigger.id for ev in events}
        entities = [e for e in found.values() if e.id not in triggers]
        return KBRecord(**common, document_id=rid, text=text, entities=entities, events=events)

    def _utterances(self, obj: dict) -> list[tuple[str, str, str, dict]]:
        """(sentence id, speaker, sentence, raw utterance) of an IMCS-V2 dialogue."""
        out = []
        for n, utt in enumerate(require(obj, "dialogue", list), start=1):
            where = f"utterance {n}"
            sid = require(utt, "sentence_id", (str, int), where)
            out.append(
                (str(sid), require(utt, "speaker", str, where), require(utt, "sentence", str, where), utt)
            )
        if not out:
            raise SkipRecord("empty dialogue")
        return out

    def _tagged_dialogue(
        self, obj: dict, opts: CblueOptions
    ) -> tuple[str, list[Passage], list[tuple[str, str, dict, int, list[tuple[str, int, int]]]]]:
        """The dialogue as one text ("speaker：sentence" per line) with its passages, and per utterance:
        id, sentence, raw object, offset of the sentence in the text, and its per-character tag chunks."""
        text, passages, utterances = "", [], []
        for sid, speaker, sentence, utt in self._utterances(obj):
            prefix = f"{speaker}："
            offset = len(text) + (1 if text else 0)
            line = prefix + sentence
            text = f"{text}\n{line}" if text else line
            passages.append(Passage(type=speaker, text=line, offset=offset))
            tags = require(utt, opts.bio_key, str, f"utterance {sid}").split()
            if len(tags) != len(sentence):
                raise SkipRecord(
                    f"utterance {sid}: {len(tags)} tags in {opts.bio_key!r} for {len(sentence)} characters"
                )
            chunks = iob_chunks(
                tags, invalid=opts.invalid, where=f"utterance {sid} char {{}}".format
            )
            utterances.append((sid, sentence, utt, offset + len(prefix), chunks))
        return text, passages, utterances

    def _imcs_ner(self, obj: dict, opts: CblueOptions, common: dict) -> KBRecord:
        rid = common["id"]
        text, passages, utterances = self._tagged_dialogue(obj, opts)
        entities: list[Entity] = []
        for sid, sentence, _utt, base, chunks in utterances:
            for etype, first, end in chunks:
                etype = self._label(etype, opts, f"utterance {sid} entity type")
                eid = f"{rid}.T{len(entities) + 1}"
                entities.append(
                    make_entity(text, eid, etype, [(base + first, base + end)], sentence[first:end])
                )
        return KBRecord(**common, document_id=rid, text=text, passages=passages, entities=entities)

    def _imcs_sr(self, obj: dict, opts: CblueOptions, common: dict) -> KBRecord:
        rid = common["id"]
        text, passages, utterances = self._tagged_dialogue(obj, opts)
        entities: list[Entity] = []
        for sid, sentence, utt, base, chunks in utterances:
            where = f"utterance {sid}"
            symptoms = [(first, end) for etype, first, end in chunks if etype == "Symptom"]
            norms = require(utt, "symptom_norm", list, where)
            types = require(utt, "symptom_type", list, where)
            if not len(symptoms) == len(norms) == len(types):
                raise SkipRecord(
                    f"{where}: {len(symptoms)} Symptom mentions tagged but {len(norms)} symptom_norm "
                    f"and {len(types)} symptom_type values"
                )
            for (first, end), norm, stype in zip(symptoms, norms, types, strict=True):
                if not isinstance(norm, str) or not norm:
                    raise SkipRecord(f"{where}: symptom_norm {norm!r} is not a non-empty string")
                label = self._label(stype, opts, f"{where} symptom_type")
                entities.append(
                    make_entity(
                        text,
                        f"{rid}.T{len(entities) + 1}",
                        "Symptom",
                        [(base + first, base + end)],
                        sentence[first:end],
                        normalized=[Normalization(db="IMCS-V2", id=norm)],
                        attributes={"symptom_type": label},
                    )
                )
        return KBRecord(**common, document_id=rid, text=text, passages=passages, entities=entities)

    def _imcs_dac(self, obj: dict, opts: CblueOptions, common: dict) -> list[TextRecord]:
        records = []
        for sid, speaker, sentence, utt in self._utterances(obj):
            act = self._label(
                require(utt, "dialogue_act", str, f"utterance {sid}"), opts, f"utterance {sid} act"
            )
            if not act:
                raise SkipRecord(f"utterance {sid} has an empty dialogue_act (unlabelled test data?)")
            records.append(
                TextRecord(
                    **{**common, "id": f"{common['id']}.{sid}"},
                    document_id=common["id"],
                    text=f"{speaker}：{sentence}",
                    labels=[act],
                    label_set=opts.label_set or [],
                    meta={"speaker": speaker},
                )
            )
        return records

    def _imcs_mrg(self, obj: dict, opts: CblueOptions, common: dict) -> T2TRecord:
        dialogue = "\n".join(
            f"{speaker}：{sentence}" for _sid, speaker, sentence, _u in self._utterances(obj)
        )
        self_report = require(obj, "self_report", str)
        reports = require(obj, "report", list)
        if not reports:
            raise SkipRecord("empty 'report' list (unlabelled test data?)")
        report = reports[0]
        fields = {}
        for section in MRG_SECTIONS:
            value = require(report, section, str, "report 1")
            fields[section] = value
        return T2TRecord(
            **common,
            type="report",
            input=f"【自述】\n{self_report}\n【对话】\n{dialogue}",
            output="\n".join(f"{k}：{v}" for k, v in fields.items()),
            fields=fields,
            meta={"reports": str(len(reports))},
        )


def json_layouts(variant: str, suffix: str) -> tuple[str, ...]:
    """The JSON layouts a file of this variant may have, as ``_read`` tells them apart."""
    if variant in _IMCS:
        return ("object",)
    if variant == "mdcfnpc" or suffix == ".jsonl":
        return ("jsonl",)
    return ("array", "jsonl") if variant == "cmeie" else ("array",)


def _json_lines(path: Path, text: str, variant: str) -> bool:
    """Whether a CBLUE file is JSON lines rather than one JSON array."""
    return path.suffix == ".jsonl" or (variant == "cmeie" and not text.lstrip().startswith("["))


def _at_value(value: object, what: str) -> str:
    """CMeIE objects are ``{"@value": "..."}`` (V2 may add more keys); plain strings are accepted."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("@value"), str):
        return value["@value"]
    raise SkipRecord(f"{what} has no string '@value': {value!r}")
