"""Typed declarations of what the public API shows and how it filters.

A resource's fields and filters are plain data: the views serialize and parse with them,
and the OpenAPI document is generated from the very same objects, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Select

#: The largest id a path parameter may carry (PostgreSQL ``integer``); larger ones are 404.
MAX_ID = 2**31 - 1


class ParameterError(ValueError):
    """A query parameter that does not fit its declaration (→ 400 with its name)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def iso_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class Field:
    """One property of a resource: its JSON Schema and how to read it from a row."""

    name: str
    schema: dict[str, Any]
    get: Callable[[Any, Any], Any]
    description: str = ""
    example: Any = None

    def to_schema(self) -> dict[str, Any]:
        schema = dict(self.schema)
        if self.description:
            schema["description"] = self.description
        if self.example is not None:
            schema["examples"] = [self.example]
        return schema


def _nullable(schema: dict[str, Any], nullable: bool) -> dict[str, Any]:
    if nullable:
        schema = {**schema, "type": [schema["type"], "null"]}
    return schema


def _reader(name: str, attr: str | None, convert: Callable[[Any], Any] | None = None):  # type: ignore[no-untyped-def]
    read = attrgetter(attr or name)
    if convert is None:
        return lambda row, context: read(row)
    return lambda row, context: convert(read(row))


def string(
    name: str,
    description: str,
    *,
    attr: str | None = None,
    nullable: bool = False,
    example: Any = None,
    enum: Sequence[str] | None = None,
) -> Field:
    schema: dict[str, Any] = {"type": "string"}
    if enum is not None:
        schema["enum"] = [*enum, None] if nullable else list(enum)
    return Field(name, _nullable(schema, nullable), _reader(name, attr), description, example)


def integer(
    name: str, description: str, *, attr: str | None = None, nullable: bool = False, example=None
) -> Field:  # type: ignore[no-untyped-def]
    schema = _nullable({"type": "integer"}, nullable)
    return Field(name, schema, _reader(name, attr), description, example)


def boolean(name: str, description: str, *, attr: str | None = None, example=None) -> Field:  # type: ignore[no-untyped-def]
    return Field(name, {"type": "boolean"}, _reader(name, attr, bool), description, example)


def timestamp(name: str, description: str, *, attr: str | None = None, nullable=True) -> Field:  # type: ignore[no-untyped-def]
    schema = _nullable({"type": "string", "format": "date-time"}, nullable)
    example = "2025-03-01T08:00:00Z"
    return Field(name, schema, _reader(name, attr, iso_datetime), description, example)


def day(name: str, description: str, *, attr: str | None = None, nullable=False) -> Field:  # type: ignore[no-untyped-def]
    schema = _nullable({"type": "string", "format": "date"}, nullable)
    return Field(name, schema, _reader(name, attr, _iso_date), description, "2025-03-01")


def computed(name: str, schema: dict[str, Any], get, description: str, example=None) -> Field:  # type: ignore[no-untyped-def]
    """A value computed for the page (aggregates): ``get(row, context)``."""
    return Field(name, schema, get, description, example)


@dataclass(frozen=True)
class Filter:
    """A query parameter that narrows a list: parsed by its schema, then applied."""

    name: str
    schema: dict[str, Any]
    apply: Callable[[Select, Any], Select]
    description: str
    parse: Callable[[str], Any] = field(default=str)

    def value_from(self, raw: str) -> Any:
        schema = self.schema
        try:
            value = self.parse(raw)
        except ValueError:
            raise ParameterError(self.name, f"{self.name} is not a valid value") from None
        if "enum" in schema and value not in schema["enum"]:
            raise ParameterError(self.name, f"{self.name} must be one of {schema['enum']}")
        if isinstance(value, str):
            self._check_text(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            self._check_range(value)
        return value

    def _check_range(self, value: int) -> None:
        if not self.schema.get("minimum", 1) <= value <= self.schema.get("maximum", MAX_ID):
            raise ParameterError(self.name, f"{self.name} is out of range")

    def _check_text(self, value: str) -> None:
        if not self.schema.get("minLength", 0) <= len(value) <= self.schema.get("maxLength", 200):
            raise ParameterError(self.name, f"{self.name} is empty or too long")
        if "\x00" in value:
            raise ParameterError(self.name, f"{self.name} contains a NUL character")


def _parse_bool(raw: str) -> bool:
    if raw in ("true", "false"):
        return raw == "true"
    raise ValueError(raw)


def _parse_id(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise ValueError(raw)
    return int(raw)


def text_filter(name: str, description: str, apply, *, max_length: int = 100) -> Filter:  # type: ignore[no-untyped-def]
    schema = {
        "type": "string",
        "minLength": 1,
        "maxLength": max_length,
        "pattern": "^[^\\u0000]*$",  # no NUL characters (PostgreSQL refuses them)
    }
    return Filter(name, schema, apply, description)


def enum_filter(name: str, description: str, values: Sequence[str], apply) -> Filter:  # type: ignore[no-untyped-def]
    return Filter(name, {"type": "string", "enum": list(values)}, apply, description)


def bool_filter(name: str, description: str, apply) -> Filter:  # type: ignore[no-untyped-def]
    return Filter(name, {"type": "boolean"}, apply, description, _parse_bool)


def id_filter(name: str, description: str, apply) -> Filter:  # type: ignore[no-untyped-def]
    schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
    return Filter(name, schema, apply, description, _parse_id)
