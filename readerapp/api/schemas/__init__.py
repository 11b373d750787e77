"""marshmallow 4 schemas of the API, one module per resource; shared parts in ``common``.

Every field is explicit; input is parsed and validated here.
"""
