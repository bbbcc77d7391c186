"""The public read-only JSON API (``/api/v1``), its OpenAPI document and docs page (``/api/``).

Routes are generated from ``charity.api.catalog.RESOURCES``: adding a resource there adds
its list (and item) operation, its schema and its documentation.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.exceptions import NotFound

from charity.api.catalog import RESOURCES
from charity.api.fields import ParameterError
from charity.api.openapi import PREFIX, build_document
from charity.api.resources import Resource, get_item, list_page
from charity.extensions import db, limiter
from charity.web.errors import json_error

bp = Blueprint("api_v1", __name__)

#: Clients and CDNs may keep public data this long (seconds).
MAX_AGE = 60
_CORS_EXPOSED = "ETag, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"


def _api_limit() -> str:
    return current_app.config["RATELIMIT_API"]


limiter.limit(_api_limit)(bp)


def json_response(body: Any) -> Response:
    """Deterministic JSON with a strong ETag over the body; 304 when If-None-Match matches."""
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    response = current_app.response_class(text, mimetype="application/json")
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.vary.add("Accept-Encoding")
    response.add_etag()
    return response.make_conditional(request)


def _bad_parameter(error: ParameterError):  # type: ignore[no-untyped-def]
    return json_error(400, "invalid_parameter", error.message, parameter=error.name)


def _list_view(resource: Resource):  # type: ignore[no-untyped-def]
    def view():  # type: ignore[no-untyped-def]
        secret = current_app.config["SECRET_KEY"]
        try:
            page = list_page(db.session, resource, request.args, secret)
        except ParameterError as error:
            return _bad_parameter(error)
        return json_response(page)

    return view


def _item_view(resource: Resource):  # type: ignore[no-untyped-def]
    def view(item_id: int):  # type: ignore[no-untyped-def]
        item = get_item(db.session, resource, item_id)
        if item is None:
            raise NotFound(f"No public {resource.schema_name.lower()} with id {item_id}.")
        return json_response(item)

    return view


def add_resource_routes(blueprint: Blueprint, resources: tuple[Resource, ...]) -> None:
    """``/v1/<name>`` (and ``/v1/<name>/<id>``) for each declared resource."""
    for resource in resources:
        blueprint.add_url_rule(
            f"/v1/{resource.name}", f"{resource.name}_list", _list_view(resource), methods=["GET"]
        )
        if resource.has_item:
            blueprint.add_url_rule(
                f"/v1/{resource.name}/<int:item_id>",
                f"{resource.name}_item",
                _item_view(resource),
                methods=["GET"],
            )


add_resource_routes(bp, RESOURCES)


def openapi_document() -> dict[str, Any]:
    """Generated once per app from the declarations and the routes it really serves."""
    cache = current_app.extensions.setdefault("api_v1", {})
    if "openapi" not in cache:
        served = [rule.rule for rule in current_app.url_map.iter_rules()]
        cache["openapi"] = build_document(served)
    return cache["openapi"]


@bp.get("/v1/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    return json_response(openapi_document())


@bp.get("/")
def docs():  # type: ignore[no-untyped-def]
    document = openapi_document()
    operations = [
        _documented(method, path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    return render_template("api/docs.html", document=document, operations=operations)


def _documented(method: str, path: str, operation: dict[str, Any]) -> dict[str, Any]:
    """What the docs page shows of one operation: parameters and an example response."""
    ((media_type, content),) = operation["responses"]["200"]["content"].items()
    example = content["example"]
    if not isinstance(example, str):
        example = json.dumps(example, ensure_ascii=False, indent=2)
    parameters = [{**p, "type": _type_label(p["schema"])} for p in operation.get("parameters", [])]
    return {
        **operation,
        "method": method.upper(),
        "path": path,
        "parameters": parameters,
        "media_type": media_type,
        "example": example,
    }


def _type_label(schema: dict[str, Any]) -> str:
    label = schema.get("type", "")
    if "enum" in schema:
        label += " (" + ", ".join(str(v) for v in schema["enum"][:8])
        label += ", …)" if len(schema["enum"]) > 8 else ")"
    if "minimum" in schema or "maximum" in schema:
        label += f" [{schema.get('minimum', '')}..{schema.get('maximum', '')}]"
    return label


@bp.after_app_request
def _cors(response: Response) -> Response:
    """Anyone may read the public API from a browser: GET only, never with credentials."""
    if not request.path.startswith(PREFIX + "/"):
        return response
    if request.method in ("GET", "HEAD", "OPTIONS"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = _CORS_EXPOSED
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
        response.headers["Access-Control-Max-Age"] = "86400"
    response.headers.pop("Access-Control-Allow-Credentials", None)
    return response
