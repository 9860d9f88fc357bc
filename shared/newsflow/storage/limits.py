"""DynamoDB's limits, and the clamps that keep every item the stages write inside them.

DynamoDB rejects an item over 400 KB, a partition key value over 2,048 bytes and a sort key
value over 1,024 bytes - for the keys of an index too - and it rejects it the same way on every
retry. Page-derived text reaches items (a title, an author, entity names in keys and in
``top_entities``), so every string value is cut to a stated limit in UTF-8 bytes before it is
written, and the item says which of its attributes were cut (``truncated``, a string set).
The full text stays in the documents in S3.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

MAX_ITEM_BYTES: Final = 400 * 1024
MAX_PARTITION_KEY_BYTES: Final = 2_048
MAX_SORT_KEY_BYTES: Final = 1_024

# Stated limits, in UTF-8 bytes, by attribute name at any depth of an item.
FIELD_LIMITS: Final[Mapping[str, int]] = {
    "title": 2_000,
    "author": 1_000,
    "site_name": 500,
    "description": 4_000,
    "domain": 253,  # the DomainDateIndex partition key; a DNS name is at most 253 characters
    "entity": 500,  # entity index items
    "text": 500,  # an entity's name inside ``top_entities``
    "url": 8_192,
    "canonical_url": 8_192,
    "final_url": 8_192,
    "detail": 4_000,  # a failure's readable sentence
    "source": 1_024,
}
DEFAULT_STRING_LIMIT: Final = 4_096
# The normalised entity name inside ``ENTITY#<name>`` (a partition key).
ENTITY_KEY_BYTES: Final = 512

TRUNCATED_ATTRIBUTE: Final = "truncated"


def clamp_utf8(value: str, limit: int) -> str:
    """``value`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    if len(value) * 4 <= limit:  # cannot be over: most values stop here without encoding
        return value
    encoded = value.encode("utf-8", "surrogatepass")
    if len(encoded) <= limit:
        return value
    return encoded[:limit].decode("utf-8", "ignore")


def clamp_attributes(attributes: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The attributes with every string inside its limit, and the names of the top-level
    attributes that had something cut (sorted)."""
    clamped: dict[str, Any] = {}
    truncated: list[str] = []
    for name, value in attributes.items():
        new_value, cut = _clamp(value, FIELD_LIMITS.get(name, DEFAULT_STRING_LIMIT))
        clamped[name] = new_value
        if cut:
            truncated.append(name)
    return clamped, sorted(truncated)


def _clamp(value: Any, limit: int) -> tuple[Any, bool]:
    if isinstance(value, str):
        cut = clamp_utf8(value, limit)
        return cut, cut is not value
    if isinstance(value, Mapping):
        pairs = {k: _clamp(v, FIELD_LIMITS.get(k, DEFAULT_STRING_LIMIT)) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(c for _, c in pairs.values())
    if isinstance(value, list | tuple):
        items = [_clamp(v, limit) for v in value]
        return [v for v, _ in items], any(c for _, c in items)
    return value, False


# ---------------------------------------------------------------------------- sizes


def attribute_value_size(value: Mapping[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value in wire form (``{"S": ...}`` etc.)."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode("utf-8", "surrogatepass"))
    if kind == "B":
        return len(inner)
    if kind == "N":
        return _number_size(str(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(v).encode("utf-8", "surrogatepass")) for v in inner)
    if kind == "NS":
        return sum(_number_size(str(v)) for v in inner)
    if kind == "BS":
        return sum(len(v) for v in inner)
    if kind == "L":
        return 3 + sum(1 + attribute_value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(
            len(k.encode("utf-8")) + 1 + attribute_value_size(v) for k, v in inner.items()
        )
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def _number_size(text: str) -> int:
    digits = str(Decimal(text)).lstrip("-").replace(".", "").lstrip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """Bytes DynamoDB counts for a whole item in wire form: names plus values."""
    return sum(len(name.encode("utf-8")) + attribute_value_size(v) for name, v in item.items())
