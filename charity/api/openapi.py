"""The OpenAPI 3.1 document, generated from the resource and log declarations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from charity.api.catalog import RESOURCES
from charity.api.logcontract import LOG_OPERATIONS, ExternalOperation
from charity.api.resources import DEFAULT_LIMIT, MAX_LIMIT, Resource

PREFIX = "/api/v1"
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code."},
                "message": {"type": "string", "description": "Human-readable explanation."},
                "parameter": {"type": "string", "description": "The offending parameter."},
            },
        }
    },
}
_CACHE_HEADERS = {
    "ETag": {"description": "Entity tag of the body.", "schema": {"type": "string"}},
    "Cache-Control": {"description": "Public, short-lived.", "schema": {"type": "string"}},
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _responses(schema: dict[str, Any], example: Any, media_type: str = "application/json"):  # type: ignore[no-untyped-def]
    return {
        "200": {
            "description": "OK",
            "headers": _CACHE_HEADERS,
            "content": {media_type: {"schema": schema, "example": example}},
        },
        "304": {"description": "Not modified (the If-None-Match tag still matches)."},
        "400": {"$ref": "#/components/responses/BadRequest"},
        "429": {"$ref": "#/components/responses/TooManyRequests"},
    }


def _param(name: str, schema: dict[str, Any], description: str, where: str = "query"):  # type: ignore[no-untyped-def]
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


def _list_operation(resource: Resource) -> dict[str, Any]:
    parameters = [
        _param(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            "Items per page.",
        ),
        _param(
            "cursor",
            {"type": "string", "maxLength": 200},
            "Opaque cursor from the previous page's next_cursor.",
        ),
        *(_param(f.name, f.schema, f.description) for f in resource.filters),
    ]
    page_schema = {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": _ref(resource)},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as cursor for the next page; null at the end.",
            },
        },
    }
    example = {"items": [resource.example()], "next_cursor": None}
    return {
        "operationId": f"list_{resource.name}",
        "tags": [resource.name],
        "summary": resource.summary,
        "description": resource.description,
        "parameters": parameters,
        "responses": _responses(page_schema, example),
    }


def _item_operation(resource: Resource) -> dict[str, Any]:
    responses = _responses(_ref(resource), resource.example())
    responses["404"] = {"$ref": "#/components/responses/NotFound"}
    return {
        "operationId": f"get_{resource.name}",
        "tags": [resource.name],
        "summary": f"One of: {resource.summary.lower()}",
        "description": "404 when it does not exist or is not public.",
        "parameters": [_param("id", {"type": "integer", "minimum": 1}, "The id.", "path")],
        "responses": responses,
    }


def _ref(resource: Resource) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{resource.schema_name}"}


def _resource_schema(resource: Resource) -> dict[str, Any]:
    return {
        "type": "object",
        "description": resource.description,
        "required": [f.name for f in resource.fields],
        "properties": {f.name: f.to_schema() for f in resource.fields},
    }


def _external_operation(operation: ExternalOperation) -> dict[str, Any]:
    return {
        "operationId": operation.operation_id,
        "tags": ["log"],
        "summary": operation.summary,
        "description": operation.description,
        "parameters": [
            {**_param(name, schema, description), "required": True}
            for name, schema, description in operation.parameters
        ],
        "responses": _responses(operation.schema, operation.example, operation.media_type),
        # Valid values depend on the log's size when asked (e.g. end ≤ tree size): a
        # schema-valid request may rightly get 400.
        "x-state-dependent-parameters": bool(operation.parameters),
    }


def build_document(
    served_paths: Iterable[str], resources: tuple[Resource, ...] = RESOURCES
) -> dict[str, Any]:
    """The whole document; log operations only for paths the app serves."""
    served = set(served_paths)
    paths: dict[str, Any] = {}
    for resource in resources:
        paths[f"{PREFIX}/{resource.name}"] = {"get": _list_operation(resource)}
        if resource.has_item:
            paths[f"{PREFIX}/{resource.name}/{{id}}"] = {"get": _item_operation(resource)}
    for operation in LOG_OPERATIONS:
        if operation.path in served:
            paths[operation.path] = {"get": _external_operation(operation)}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Charity public API",
            "version": "1.0.0",
            "description": "Read-only public data: verified organizations, campaigns, the "
            "donor wall and the verifiable audit log. No authentication; CORS open for GET. "
            "Money is integer fen (1 yuan = 100 fen) with an ISO currency code.",
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Error": ERROR_SCHEMA,
                **{r.schema_name: _resource_schema(r) for r in resources},
            },
            "responses": {
                "BadRequest": _error("A parameter is invalid (see error.parameter)."),
                "NotFound": _error("No such public item."),
                "TooManyRequests": {
                    **_error("Rate limit exceeded; retry after Retry-After seconds."),
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                },
            },
        },
    }
