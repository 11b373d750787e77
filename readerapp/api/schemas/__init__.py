"""marshmallow 4 schemas of the API, one module per resource; shared parts in ``common``.

Every field is explicit; input is parsed and validated here.
"""

from functools import cache

from marshmallow import Schema


@cache
def shared(schema: type[Schema]) -> Schema:
    """One instance of ``schema`` for the process. Building one deep-copies its fields (about
    0.3 ms), which ``check_etag(item, SchemaClass)`` would otherwise do on every write; the
    schemas keep no state between dumps."""
    return schema()
