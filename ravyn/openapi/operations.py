"""One OpenAPI operation from what a mounted route already knows: its binding plan
(parameters, body, files, dependencies), its declared status, media type and metadata, and
the events it sends."""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Any

from lilya.responses import Response

from ravyn.openapi.responses import DeclaredResponse, declared_responses
from ravyn.openapi.schemas import Components
from ravyn.openapi.security import SecurityScheme, plan_security
from ravyn.routing.binding import BindingPlan
from ravyn.routing.forms import MULTIPART, URLENCODED
from ravyn.routing.handlers import RouteHandler
from ravyn.routing.params import NOT_SET

JSON = "application/json"
PARAMETER_SOURCES = ("path", "query", "header", "cookie")
BINARY = {"type": "string", "format": "binary"}
ERROR_SCHEMA = "HTTPError"
VALIDATION_ERROR_SCHEMA = "ValidationError"
ERROR_SCHEMAS = {
    ERROR_SCHEMA: {
        "type": "object",
        "properties": {"detail": {"description": "What went wrong."}},
        "required": ["detail"],
    },
    VALIDATION_ERROR_SCHEMA: {
        "type": "object",
        "properties": {
            "detail": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "loc": {
                            "type": "array",
                            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                            "description": "The source (path, query, header, cookie, body), "
                            "then the field, down to nested fields and list indexes.",
                        },
                        "msg": {"type": "string"},
                    },
                    "required": ["loc", "msg"],
                },
            }
        },
        "required": ["detail"],
    },
}
RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 1},
}
_BODY_ERRORS = {
    "400": "The body is not valid JSON, or a multipart body cannot be parsed.",
    "413": "The body, a form field or the number of form parts is over the app's limits.",
    "415": "The body is sent with a Content-Type this operation does not read.",
}


def build_operation(
    route: RouteHandler,
    plan: BindingPlan,
    path_names: list[str],
    operation_id: str,
    components: Components,
    around: Sequence[DeclaredResponse] = (),
) -> tuple[dict[str, Any], list[SecurityScheme]]:
    """The Operation Object of ``route`` for its mount, and the security schemes it uses;
    ``around``: the responses its middleware declare."""
    operation: dict[str, Any] = {}
    if route.tags:
        operation["tags"] = list(route.tags)
    operation["summary"] = route.summary or route.name.replace("_", " ").capitalize()
    if route.description:
        operation["description"] = route.description
    operation["operationId"] = operation_id
    parameters = _parameters(plan, path_names, components)
    if parameters:
        operation["parameters"] = parameters
    body = _request_body(plan, components)
    if body is not None:
        operation["requestBody"] = body
    operation["responses"] = _responses(route, plan, components, around)
    if route.deprecated:
        operation["deprecated"] = True
    schemes = plan_security(plan)
    if schemes:
        operation["security"] = [{scheme.name: list(scheme.scopes) for scheme in schemes}]
    if route.observable is not None and route.observable.send:
        operation["x-events"] = list(route.observable.send)
    return operation, schemes


def _parameters(plan: BindingPlan, path_names: list[str], components: Components) -> list:
    parameters = []
    bound_path_names = set()
    for source in PARAMETER_SOURCES:
        fields = plan.sources.get(source)
        if fields is None:
            continue
        schema = components.object_fields(fields.struct)
        required = set(schema.get("required", ()))
        for wire, field_schema in schema["properties"].items():
            if source == "path":
                bound_path_names.add(wire)
            parameters.append(
                {
                    "name": wire,
                    "in": source,
                    "required": source == "path" or wire in required,
                    "schema": field_schema,
                }
            )
    # a path parameter the handler does not take still is part of the path
    for name in path_names:
        if name not in bound_path_names:
            parameters.append(
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            )
    return parameters


def _request_body(plan: BindingPlan, components: Components) -> dict[str, Any] | None:
    if plan.body_param is not None:
        _, annotation, default = plan.body_param
        return {
            "required": default is NOT_SET,
            "content": {JSON: {"schema": components.schema(annotation)}},
        }
    fields = plan.sources.get("body")
    if fields is None and not plan.file_params:
        return None
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    if fields is not None:
        schema = components.object_fields(fields.struct)
    for _, wire, is_list, default in plan.file_params:
        schema["properties"][wire] = {"type": "array", "items": BINARY} if is_list else BINARY
        if default is NOT_SET:
            schema.setdefault("required", []).append(wire)
    media_types = [MULTIPART] if plan.file_params else [JSON, URLENCODED, MULTIPART]
    return {
        "required": "required" in schema,
        "content": {media_type: {"schema": schema} for media_type in media_types},
    }


def _responses(
    route: RouteHandler,
    plan: BindingPlan,
    components: Components,
    around: Sequence[DeclaredResponse],
) -> dict:
    status = str(route.status_code)
    success: dict[str, Any] = {"description": "Successful response"}
    annotation = _return_annotation(route)
    if route.status_code not in (204, 304) and annotation is not type(None):
        if isinstance(annotation, type) and issubclass(annotation, Response):
            success["content"] = {route.response.media_type: {}}
        else:
            success["content"] = {
                route.response.media_type: {"schema": components.schema(annotation)}
            }
    responses: dict[str, Any] = {status: success}
    if plan.reads_body:
        for code, description in _BODY_ERRORS.items():
            responses[code] = _error(description, ERROR_SCHEMA, components)
    if plan.sources or plan.reads_body:
        responses["422"] = _error(
            "A parameter or the body does not fit the declared types.",
            VALIDATION_ERROR_SCHEMA,
            components,
        )
    for status_code, declared in declared_responses(route.handler, around).items():
        response = _error(declared.description, ERROR_SCHEMA, components)
        if declared.retry_after:
            response["headers"] = {"Retry-After": RETRY_AFTER}
        responses.setdefault(str(status_code), response)
    return responses


def _error(description: str, schema_name: str, components: Components) -> dict[str, Any]:
    components.schemas[schema_name] = ERROR_SCHEMAS[schema_name]
    ref = {"$ref": components.ref_prefix + schema_name}
    return {"description": description, "content": {JSON: {"schema": ref}}}


def _return_annotation(route: RouteHandler) -> Any:
    try:
        return typing.get_type_hints(route.handler).get("return", Any)
    except (NameError, TypeError):
        return Any
