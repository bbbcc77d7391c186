"""URL converters: ids beyond the database's integer range are "not found", never a 500.

Every ``<int:...>`` in a route is bounded to 1 .. 2**31 - 1 (PostgreSQL ``integer``, the
type of our primary keys); a larger number used to reach the database and fail there
(issue 15, low: ~30 routes answered 500). Years and other small numbers fit the bound too.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

DB_INT_MAX = 2**31 - 1


class DatabaseIntConverter(IntegerConverter):
    def __init__(self, map, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Before the blueprints: converters are chosen when each rule is added."""
    app.url_map.converters["int"] = DatabaseIntConverter
