"""Built-in conversions, one module per release layout family (registered on import)."""

from taiyi_core.fetch.conversions import documents, nlm_qa_xml, parallel, pubmedqa, records, standoff  # noqa: F401
