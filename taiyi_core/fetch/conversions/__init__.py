"""Built-in conversions, one module per release layout family (registered on import)."""

from taiyi_core.fetch.conversions import (  # noqa: F401
    documents,
    nlm_qa_xml,
    parallel,
    pubmedqa,
    records,
    standoff,
    tagged,
    word_tables,
)
