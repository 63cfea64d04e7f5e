"""Format readers: one per SOURCE format (see README.md). ``get_reader(name).read(paths, options, ...)``."""

from __future__ import annotations

from taiyi_core.formats.base import Quarantined, Reader, ReaderError
from taiyi_core.formats.bc2gm import Bc2gmReader
from taiyi_core.formats.bioc_json import BiocJsonReader
from taiyi_core.formats.bioc_xml import BiocXmlReader
from taiyi_core.formats.biocreative_tsv import BiocreativeTsvReader
from taiyi_core.formats.brat import BratReader
from taiyi_core.formats.cblue import CblueReader
from taiyi_core.formats.conll import ConllReader
from taiyi_core.formats.ddi_xml import DdiXmlReader
from taiyi_core.formats.diakg import DiakgReader
from taiyi_core.formats.firefly_jsonl import FireflyJsonlReader
from taiyi_core.formats.hoc import HocReader
from taiyi_core.formats.inline_xml import InlineXmlReader
from taiyi_core.formats.json_records import JsonRecordsReader
from taiyi_core.formats.n2c2_xml import N2c2XmlReader
from taiyi_core.formats.ppi_xml import PpiXmlReader
from taiyi_core.formats.pubtator import PubTatorReader
from taiyi_core.formats.tabular import TabularReader

# The one list of readers: the catalog's reader names (and their order in its messages) come from here.
READERS: dict[str, Reader] = {
    reader.name: reader
    for reader in (
        PubTatorReader(),
        BiocXmlReader(),
        BiocJsonReader(),
        BratReader(),
        ConllReader(),
        CblueReader(),
        TabularReader(),
        JsonRecordsReader(),
        HocReader(),
        PpiXmlReader(),
        DdiXmlReader(),
        N2c2XmlReader(),
        FireflyJsonlReader(),
        BiocreativeTsvReader(),
        Bc2gmReader(),
        InlineXmlReader(),
        DiakgReader(),
    )
}


def get_reader(name: str) -> Reader:
    try:
        return READERS[name]
    except KeyError:
        raise ReaderError(f"unknown reader {name!r} (known: {', '.join(sorted(READERS))})") from None


__all__ = ["READERS", "Quarantined", "Reader", "ReaderError", "get_reader"]
