"""Schema validation of facts and results: a compiled validator says "valid", jsonschema says everything else.

jsonschema, the reference implementation, costs about a millisecond per facts file and seconds per results
file of 10,000 guests. jsonschema-rs answers whether a document is valid some hundred times faster. A document it
finds valid is taken as valid; any other goes to jsonschema, whose verdict and messages stand. The self-test
``unit/run/test_validation.py`` holds the two to the same answers on valid and broken documents.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs

_COMPILED: dict[int, tuple[dict[str, Any], Any]] = {}


def surely_valid(schema: dict[str, Any], document: Any) -> bool:
    """True when `document` matches `schema`; False means: ask jsonschema (it may still be valid)."""
    entry = _COMPILED.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = _COMPILED[id(schema)] = (schema, jsonschema_rs.validator_for(schema))
    try:
        return bool(entry[1].is_valid(document))
    except (ValueError, TypeError):  # a value JSON cannot hold: jsonschema says what it is
        return False
