"""Inline-annotated XML: mentions are elements inside the text (OSIRIS v1.2 ``corpus.xml``).

``<Articles><Article><Pmid>…</Pmid><Title>The effect of <gene g_id="7040" g_lex="…">TGF beta1</gene> …
</Title><Abstract>… <variant v_id="1800470" v_lex="…" v_norm="…">…</variant> …</Abstract></Article>``:
one record per ``record_tag`` element, its id from ``id_tag``, its text the ``passage_tags`` in order
joined by ``separator``; each element named in ``mentions`` is a mention whose span is where its text
falls (the format has no offsets), with the id in ``id_attr`` (database ``db``, ``id_prefix`` added:
OSIRIS variant ids are dbSNP numbers) and the listed attributes kept. Traps: ``v_id="No"`` and
``v_norm="null"`` mean "not normalised" (``unlinked``); an element not named in ``mentions`` inside a
passage quarantines the record (its text would be silently merged); a record without its id or a
passage quarantines alone, the others are read. A file that is not well-formed (a stray undecodable byte,
a broken tag, a truncated file) is salvaged record by record (``xml_root(..., salvage=)``): the broken
``record_tag`` element quarantines with its line, the others are read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from taiyi_core.formats.base import Ctx, Reader, ReaderOptions, SkipRecord
from taiyi_core.formats.sentence_xml import element_text, xml_root
from taiyi_core.schema import Entity, KBRecord, Normalization, Passage


class MentionTag(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str  # entity type of the mention
    id_attr: str | None = None  # attribute holding its database id
    db: str = ""
    id_prefix: str = ""  # prepended to the id (OSIRIS v_id 1801282 -> dbSNP rs1801282)
    attributes: list[str] = []  # attributes kept on the entity (values in ``unlinked`` dropped)


class InlineXmlOptions(ReaderOptions):
    root_tag: str = "Articles"
    record_tag: str = "Article"
    id_tag: str = "Pmid"
    passage_tags: list[str] = ["Title", "Abstract"]
    separator: str = " "
    mentions: dict[str, MentionTag]
    unlinked: list[str] = ["", "No", "null", "-"]


class InlineXmlReader(Reader):
    name = "inline_xml"
    Options = InlineXmlOptions
    accepts_dirs = True

    def _read(self, paths: list[Path], opts: InlineXmlOptions, ctx: Ctx) -> Iterator:
        for path in ctx.files_in(paths, "*.xml"):
            root = yield from xml_root(path, ctx, (opts.root_tag,), salvage=(opts.record_tag,))
            if root is None:
                continue
            for n, element in enumerate(root.iter(opts.record_tag)):
                rid = (element.findtext(opts.id_tag) or "").strip() or None
                try:
                    if rid is None:
                        raise SkipRecord(f"<{opts.record_tag}> without <{opts.id_tag}>")
                    ctx.claim_id(rid)
                    yield self._record(path, element, rid, opts, ctx)
                except SkipRecord as exc:
                    yield ctx.quarantine(
                        path, str(exc), line=element.sourceline, record_id=rid or f"{path.stem}-{n}"
                    )

    def _record(self, path: Path, element, rid: str, opts: InlineXmlOptions, ctx: Ctx) -> KBRecord:
        pieces: list[str] = []
        entities: list[Entity] = []
        passages: list[Passage] = []
        for tag in opts.passage_tags:
            node = element.find(tag)
            if node is None:
                raise SkipRecord(f"record {rid} has no <{tag}> (line {element.sourceline})")
            if pieces:
                pieces.append(opts.separator)
            start = sum(map(len, pieces))
            self._walk(node, pieces, entities, rid, opts, top=True)
            text = "".join(pieces)
            passages.append(Passage(type=tag.lower(), text=text[start:], offset=start))
        return KBRecord(
            **ctx.common(path, element.sourceline, rid),
            document_id=rid,
            text="".join(pieces),
            passages=passages,
            entities=entities,
        )

    def _walk(
        self,
        node,
        pieces: list[str],
        entities: list[Entity],
        rid: str,
        opts: InlineXmlOptions,
        top: bool = False,
    ) -> None:
        """Append ``node``'s text to ``pieces``, recording each mention element's span."""
        start = sum(map(len, pieces))
        pieces.append(node.text or "")
        element_text(node, f"record {rid}: <{node.tag}>")  # an unexpanded entity would lose text
        for child in node:
            if not isinstance(child.tag, str):  # comment or processing instruction: no text
                pieces.append(child.tail or "")
                continue
            if child.tag not in opts.mentions:
                raise SkipRecord(
                    f"record {rid}: unexpected element <{child.tag}> inside <{node.tag}> "
                    f"(line {child.sourceline}; mention elements: {sorted(opts.mentions)})"
                )
            self._walk(child, pieces, entities, rid, opts)
            pieces.append(child.tail or "")
        if top:
            return
        spec = opts.mentions[node.tag]
        end = sum(map(len, pieces))
        surface = "".join(pieces)[start:end]
        if not surface.strip():
            raise SkipRecord(f"record {rid}: empty <{node.tag}> mention (line {node.sourceline})")
        raw_id = (node.get(spec.id_attr) or "").strip() if spec.id_attr else ""
        normalized = (
            [] if raw_id in opts.unlinked else [Normalization(db=spec.db, id=spec.id_prefix + raw_id)]
        )
        attributes = {
            a: v for a in spec.attributes if (v := node.get(a)) is not None and v not in opts.unlinked
        }
        entities.append(
            Entity(
                id=f"{rid}.T{len(entities) + 1}",
                type=spec.type,
                text=surface,
                spans=[(start, end)],
                normalized=normalized,
                attributes=attributes,
            )
        )
