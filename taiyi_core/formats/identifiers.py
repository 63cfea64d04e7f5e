"""Database identifiers of entity mentions and of relation arguments, parsed by one set of rules.

An id column holds one id or a list. Which database an unprefixed id belongs to depends on the
dataset and the entity type (BioRED: a gene id ``6331`` is NCBI Gene, ``9606`` NCBI Taxonomy, a
chemical ``D014640`` MeSH), so the reader passes the database the type implies. Traps:

- tmVar normalised variants contain ``|`` themselves (``p|SUB|V|1763|M``, ``c|DEL|737|C``): they are
  one id (database ``tmVar``) and are never split on the list separator; ``rs2234671`` is dbSNP;
- tmVar 3 / PubTator 3 write a variant as ``key:value`` items joined by ``;`` (``tmVar:p|SUB|V|1763|M;
  HGVS:p.V1763M;RS#:1799971``): each item is one normalisation (``RS#:1799971`` = dbSNP ``rs1799971``);
- the list separator depends on the format: ``|`` (BC5CDR composite mentions), ``+`` (NCBI-disease),
  ``,`` (BioRED);
- ``DB:ID`` prefixes name their database (spelled in several ways: ``MESH``/``MeSH``, ``NCBIGene``/
  ``Gene``, ``CHEBI``/``ChEBI`` ...); unlinked ids are ``-``, ``-1`` or empty.

A relation argument is one id parsed by the same rules; its database is the one of the mention
carrying that id in the document, else the default (``resolve_ref``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from taiyi_core.schema import Normalization

UNLINKED = frozenset({"", "-", "-1"})
_PREFIX = re.compile(r"^([A-Za-z][A-Za-z_ #]*):(.+)$")
_TMVAR = re.compile(r"^[cgpr]\|")  # tmVar normalised form: sequence type, then '|'-joined fields
_RSID = re.compile(r"^rs\d+$", re.IGNORECASE)
_KEY_VALUE_VARIANT = re.compile(r"(^|;)\s*(tmVar|RS#|HGVS|CA#):", re.IGNORECASE)

# spelling of a database prefix (lower case) -> the canonical name written in Normalization.db
DATABASES = {
    "mesh": "MESH",
    "omim": "OMIM",
    "ncbigene": "NCBIGene",
    "ncbi gene": "NCBIGene",
    "gene": "NCBIGene",
    "entrez": "NCBIGene",
    "ncbitaxon": "NCBITaxon",
    "ncbi taxonomy": "NCBITaxon",
    "taxonomy": "NCBITaxon",
    "chebi": "CHEBI",
    "umls": "UMLS",
    "dbsnp": "dbSNP",
    "rs#": "dbSNP",
    "tmvar": "tmVar",
    "hgvs": "HGVS",
    "cellosaurus": "Cellosaurus",
}


def database(name: str) -> str:
    """The canonical spelling of a database name (unknown names are kept as written)."""
    return DATABASES.get(name.strip().lower(), name.strip())


def parse_id(token: str, db: str) -> Normalization | None:
    """One identifier; ``db`` is the database of an unprefixed id (None when unlinked)."""
    token = token.strip()
    if token in UNLINKED:
        return None
    if _TMVAR.match(token):
        return Normalization(db="tmVar", id=token)
    if _RSID.match(token):
        return Normalization(db="dbSNP", id=token.lower())
    match = _PREFIX.match(token)
    if match:
        name, value = database(match.group(1)), match.group(2).strip()
        if name == "dbSNP" and value.isdigit():
            value = f"rs{value}"
        return Normalization(db=name, id=value) if value not in UNLINKED else None
    return Normalization(db=database(db), id=token)


def parse_ids(raw: str, db: str, separators: str = "|+") -> list[Normalization]:
    """All identifiers of one id column, in order, without repeats.

    ``separators``: the characters that join a list of ids in this format ("" = never a list).
    A tmVar variant (``p|SUB|...``, or ``key:value;...``) is never split on them.
    """
    raw = raw.strip()
    if raw in UNLINKED:
        return []
    if _KEY_VALUE_VARIANT.search(raw):
        parts = raw.split(";")
    elif _TMVAR.match(raw) or not separators:
        parts = [raw]
    else:
        parts = re.split(f"[{re.escape(separators)}]", raw)
    return _unique(parse_id(p, db) for p in parts)


def resolve_ref(raw: str, known: Iterable[Normalization], db: str) -> Normalization | None:
    """A relation argument: parsed like a mention id, in the database of the mention carrying it."""
    token = raw.strip()
    by_id = {n.id: n.db for n in known}
    norm = parse_id(token, db)
    if norm is not None and not _PREFIX.match(token) and norm.id in by_id:
        norm = Normalization(db=by_id[norm.id], id=norm.id)
    return norm


def _unique(items: Iterable[Normalization | None]) -> list[Normalization]:
    out: list[Normalization] = []
    for n in items:
        if n is not None and n not in out:
            out.append(n)
    return out
