"""A public, read-only API resource as one small declaration, and the work of serving it.

Each resource names the rows the public may see (``public``), the fields it shows, the
filters it accepts and, optionally, aggregates computed once per page (``context``). Lists
use keyset pagination on the primary key with opaque signed cursors, so a page never skips
or repeats rows while new ones arrive, and deep pages cost the same as the first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select
from sqlalchemy.orm import Session

from charity.api.fields import MAX_ID, Field, Filter, ParameterError

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@dataclass(frozen=True)
class Resource:
    #: The URL segment and tag: ``/api/v1/<name>``.
    name: str
    #: The component schema's name in the OpenAPI document.
    schema_name: str
    summary: str
    description: str
    model: type
    fields: tuple[Field, ...]
    #: The rows anyone may see (verified, published, succeeded...), unfiltered and unordered.
    public: Callable[[], Select]
    filters: tuple[Filter, ...] = ()
    #: Newest first (descending ids) instead of oldest first.
    newest_first: bool = False
    #: ``context(session, rows)`` → whatever the fields' ``get(row, context)`` need for a page.
    context: Callable[[Session, list[Any]], Any] | None = None
    #: Also serve ``/api/v1/<name>/<id>``.
    has_item: bool = True

    def serialize(self, row: Any, context: Any) -> dict[str, Any]:
        return {f.name: f.get(row, context) for f in self.fields}

    def example(self) -> dict[str, Any]:
        return {f.name: f.example for f in self.fields}


def _serializer(secret: str, resource: Resource) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=f"api-cursor:{resource.name}")


def encode_cursor(secret: str, resource: Resource, last_id: int) -> str:
    return str(_serializer(secret, resource).dumps(last_id))


def decode_cursor(secret: str, resource: Resource, cursor: str) -> int:
    try:
        value = _serializer(secret, resource).loads(cursor[:200])
    except (BadSignature, UnicodeError):
        raise ParameterError("cursor", "cursor is not a cursor this API issued") from None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise ParameterError("cursor", "cursor is not a cursor this API issued")
    return value


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ParameterError("limit", f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def _filtered(resource: Resource, args: Mapping[str, str]) -> Select:
    statement = resource.public()
    for declared in resource.filters:
        raw = args.get(declared.name)
        if raw is not None:
            statement = declared.apply(statement, declared.value_from(raw))
    return statement


def list_page(
    session: Session, resource: Resource, args: Mapping[str, str], secret: str
) -> dict[str, Any]:
    """One page of the public rows matching ``args``; raises ParameterError for bad input."""
    limit = parse_limit(args.get("limit"))
    statement = _filtered(resource, args)
    key = resource.model.id
    cursor = args.get("cursor")
    if cursor is not None:
        after = decode_cursor(secret, resource, cursor)
        statement = statement.where(key < after if resource.newest_first else key > after)
    order = key.desc() if resource.newest_first else key.asc()
    rows = list(session.scalars(statement.order_by(order).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    context = resource.context(session, rows) if resource.context else None
    return {
        "items": [resource.serialize(row, context) for row in rows],
        "next_cursor": encode_cursor(secret, resource, rows[-1].id) if more else None,
    }


def get_item(session: Session, resource: Resource, item_id: int) -> dict[str, Any] | None:
    """The public row with this id, serialized, or None (unknown and private look the same)."""
    if not 1 <= item_id <= MAX_ID:
        return None
    row = session.scalars(resource.public().where(resource.model.id == item_id)).first()
    if row is None:
        return None
    context = resource.context(session, [row]) if resource.context else None
    return resource.serialize(row, context)
