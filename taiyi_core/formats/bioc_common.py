"""What the BioC XML and BioC JSON readers share: options and BioC document -> ``KBRecord``.

Both readers first build ``bioc`` data-model objects (``BioCDocument`` with passages, sentences,
annotations, locations, relations and nodes), then ``to_record`` turns one into a ``KBRecord``.

Traps handled here:
- offsets are **document-global** (a passage's ``offset`` is already added to its annotations'
  locations); ``KBRecord.text`` places each passage at its offset and fills gaps with spaces (title at
  0 and abstract at ``len(title)+1`` gives ``title + " " + abstract``); overlapping passages quarantine;
- a passage may have no (or an empty) ``<text>`` but sentences that carry text at their own offsets;
- several ``<location>`` per annotation = a discontinuous mention; its ``text`` concatenates the
  fragments (with or without a space); every span is re-sliced and compared, never shifted;
- the normalisation infon key varies by corpus (``MESH``, ``identifier``, ``NCBI Gene``, ...), ids may
  be several (``D01|D02``, ``1234;5678``, ``6331,6332``) with ``DB:`` prefixes; ``-``/``-1`` = unlinked;
  ids are parsed by identifiers.py (tmVar ``p|SUB|V|600|E`` stays one id; concept relation arguments
  get the database of the mention carrying them: attributes ``head_db``/``tail_db``);
- relations either name mentions through ``node`` (refid, role) or, concept-level, name concepts in
  infons (BC5CDR ``relation=CID, Chemical, Disease``; BioRED ``type, entity1, entity2, novel``);
- empty ``<infon/>`` elements parse as ``None`` in ``bioc``; they are dropped here.
"""

from __future__ import annotations

from bioc import BioCAnnotation, BioCDocument, BioCRelation

from taiyi_core.formats.base import Ctx, ReaderOptions, SkipRecord, check_label, make_entity
from taiyi_core.formats.identifiers import parse_ids, resolve_ref
from taiyi_core.schema import Entity, KBRecord, Normalization, Passage, Relation, Source

DEFAULT_NORM_KEYS = {
    "identifier": "",
    "Identifier": "",
    "MESH": "MESH",
    "NCBI Gene": "NCBIGene",
    "NCBI Gene identifier": "NCBIGene",
    "NCBI Homologene": "NCBIHomologene",
    "NCBI Taxonomy": "NCBITaxon",
}


class BiocOptions(ReaderOptions):
    type_key: str = "type"  # annotation infon holding the entity type
    type_map: dict[str, str] = {}
    label_set: list[str] | None = None  # entity types (after type_map); others quarantine the document
    # annotation infon key -> database name; "" = take the id's own ``DB:`` prefix, else type_db/db
    norm_keys: dict[str, str] = DEFAULT_NORM_KEYS
    db: str = "MESH"  # database of unprefixed ids under a "" norm key
    type_db: dict[str, str] = {}  # entity type -> database for unprefixed ids (BioRED identifier)
    id_split: str = "|;,"  # characters that separate several ids in one infon; "" = never split
    relation_type_keys: list[str] = ["type", "relation"]  # first present infon names the relation type
    # infon key pairs naming the concepts of a node-less (concept-level) relation
    concept_keys: list[tuple[str, str]] = [("entity1", "entity2"), ("Chemical", "Disease")]
    relation_label_set: list[str] | None = None


def to_record(doc: BioCDocument, opts: BiocOptions, ctx: Ctx, source: Source) -> KBRecord:
    """One BioC document as a KBRecord (raises SkipRecord naming what is wrong)."""
    doc_id = str(doc.id or "").strip()
    if not doc_id:
        raise SkipRecord("document has no id")
    ctx.claim_id(doc_id)
    text, passages = _layout(doc)
    annotations: list[BioCAnnotation] = list(doc.annotations)
    relations: list[BioCRelation] = list(doc.relations)
    for passage in doc.passages:
        annotations.extend(passage.annotations)
        relations.extend(passage.relations)
        for sentence in passage.sentences:
            annotations.extend(sentence.annotations)
            relations.extend(sentence.relations)
    entities: dict[str, Entity] = {}
    for n, ann in enumerate(annotations, start=1):
        ann_id = str(ann.id) if ann.id not in (None, "") else f"T{n}"
        if ann_id in entities:
            raise SkipRecord(f"annotation id {ann_id!r} occurs twice in document {doc_id}")
        entities[ann_id] = _entity(text, doc_id, ann_id, ann, opts)
    return KBRecord(
        id=doc_id,
        dataset=ctx.dataset,
        split=ctx.split,
        lang=ctx.lang,
        source=source,
        document_id=doc_id,
        text=text,
        passages=passages,
        entities=list(entities.values()),
        relations=[_relation(doc_id, n, rel, entities, opts) for n, rel in enumerate(relations, start=1)],
        meta={k: v for k, v in _infons(doc.infons).items()},
    )


def _infons(infons: dict) -> dict[str, str]:
    return {str(k): str(v) for k, v in infons.items() if v is not None and str(v) != ""}


def _layout(doc: BioCDocument) -> tuple[str, list[Passage]]:
    """Place passages (or their sentences) at their document-global offsets."""
    text = ""
    passages: list[Passage] = []
    for n, passage in enumerate(doc.passages):
        ptype = _infons(passage.infons).get("type", "text")
        pieces = (
            [(passage.offset, passage.text)]
            if passage.text or not passage.sentences
            else [(s.offset, s.text or "") for s in passage.sentences]
        )
        for offset, ptext in pieces:
            if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
                raise SkipRecord(f"passage {n} has offset {offset!r}, expected a non-negative integer")
            if offset < len(text):
                raise SkipRecord(
                    f"passage {n} ({ptype}) starts at offset {offset}, inside the previous passage "
                    f"(which ends at {len(text)})"
                )
            if ptext:  # an empty passage (no abstract) adds no padding
                text += " " * (offset - len(text)) + ptext
        start = pieces[0][0]
        passages.append(Passage(type=ptype, text=text[start:], offset=start))
    return text, passages


def _entity(text: str, doc_id: str, ann_id: str, ann: BioCAnnotation, opts: BiocOptions) -> Entity:
    infons = _infons(ann.infons)
    what = f"annotation {ann_id}"
    if opts.type_key not in infons:
        raise SkipRecord(f"{what} has no {opts.type_key!r} infon (has {sorted(infons)})")
    etype = opts.type_map.get(infons[opts.type_key], infons[opts.type_key])
    check_label(etype, opts.label_set, f"entity type ({what})")
    if not ann.locations:
        raise SkipRecord(f"{what} has no location")
    spans = []
    for loc in ann.locations:
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (loc.offset, loc.length)):
            raise SkipRecord(f"{what}: location offset/length {loc.offset!r}/{loc.length!r} are not integers")
        spans.append((loc.offset, loc.offset + loc.length))
    normalized: list[Normalization] = []
    attributes: dict[str, str] = {}
    for key, value in infons.items():
        if key == opts.type_key:
            continue
        if key in opts.norm_keys:
            for norm in _normalize(value, opts.norm_keys[key], etype, opts):
                if norm not in normalized:
                    normalized.append(norm)
        else:
            attributes[key] = value
    try:
        return make_entity(text, f"{doc_id}.{ann_id}", etype, spans, ann.text, normalized, attributes)
    except SkipRecord as exc:
        raise SkipRecord(f"{what}: {exc}") from None


def _normalize(value: str, db: str, etype: str, opts: BiocOptions) -> list[Normalization]:
    """Ids of one infon, by the rules shared with every reader (identifiers.py): tmVar variants are
    never split on ``|``, ``key:value;...`` variant lists give one id per item."""
    if value.strip() == "None":  # an empty infon as the bioc package writes it
        return []
    return parse_ids(value, db or opts.type_db.get(etype, opts.db), opts.id_split)


def _relation(
    doc_id: str, n: int, rel: BioCRelation, entities: dict[str, Entity], opts: BiocOptions
) -> Relation:
    rel_id = str(rel.id) if rel.id not in (None, "") else f"R{n}"
    what = f"relation {rel_id}"
    infons = _infons(rel.infons)
    type_key = next((k for k in opts.relation_type_keys if k in infons), None)
    if type_key is None:
        raise SkipRecord(
            f"{what} has none of the type infons {opts.relation_type_keys} (has {sorted(infons)})"
        )
    rtype = check_label(infons[type_key], opts.relation_label_set, f"relation type ({what})")
    rest = {k: v for k, v in infons.items() if k != type_key}
    if rel.nodes:
        if len(rel.nodes) != 2:
            raise SkipRecord(f"{what} has {len(rel.nodes)} nodes; only binary relations are supported")
        refs = []
        for node in rel.nodes:
            if str(node.refid) not in entities:
                raise SkipRecord(f"{what}: node refid {node.refid!r} is not an annotation of the document")
            refs.append(entities[str(node.refid)].id)
        roles = {
            key: node.role
            for key, node in zip(("head_role", "tail_role"), rel.nodes, strict=True)
            if node.role
        }
        return Relation(
            id=f"{doc_id}.{rel_id}", type=rtype, head=refs[0], tail=refs[1], attributes={**rest, **roles}
        )
    known = [n for e in entities.values() for n in e.normalized]
    for head_key, tail_key in opts.concept_keys:
        if head_key in rest and tail_key in rest:
            attrs = {k: v for k, v in rest.items() if k not in (head_key, tail_key)}
            # concept arguments are parsed like mention ids, in the database of the mention carrying them
            head, tail = (resolve_ref(rest[k], known, opts.db) for k in (head_key, tail_key))
            if head is None or tail is None:
                raise SkipRecord(f"{what}: a concept argument is an unlinked id ({rest[head_key]!r}, "
                                 f"{rest[tail_key]!r})")
            return Relation(
                id=f"{doc_id}.{rel_id}",
                type=rtype,
                head=head.id,
                tail=tail.id,
                level="concept",
                attributes={**attrs, "head_db": head.db, "tail_db": tail.db},
            )
    raise SkipRecord(
        f"{what} has no nodes and none of the concept infon pairs {opts.concept_keys} (has {sorted(infons)})"
    )
