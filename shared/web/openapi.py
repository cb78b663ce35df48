"""What every service's OpenAPI document says about errors, ids and request bodies, written once.

Every error is ``application/problem+json`` (``shared.web.http.problem``): one ``Problem``
schema, and ``ValidationProblem`` (with ``errors``) for 422. ``ProblemResponsesPlugin`` gives
each operation the error answers it can get from the common machinery, so a route documents
only its own (a 409, a 429):

- 401 on every operation that needs a token (all but those marked ``security=[]``);
- 404 where the path has parameters (an id that does not exist, or is out of range);
- 400 (malformed JSON) and 413 (body cap) where a JSON body is read, 413 for any body;
- problem+json content for every error answer a route declares without a schema;
- ``requestBody.required`` only when the body's schema requires something.

``admin_only`` enforces and documents the admin role (403); ``documented_elsewhere`` parses an
argument whose fields another argument documents (a multipart body's form fields).
"""

from __future__ import annotations

import copy
import functools
import http
from collections.abc import Callable
from typing import Any

from apispec import APISpec, BasePlugin

from .http import PROBLEM, require_admin

PROBLEM_REF = "#/components/schemas/Problem"
VALIDATION_PROBLEM_REF = "#/components/schemas/ValidationProblem"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error (RFC 9457 problem details).",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "about:blank: the title is the meaning of the status"},
        "title": {"type": "string", "description": "short and the same for every problem of this kind"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "description": "the HTTP status"},
        "detail": {"type": "string", "description": "what went wrong with this request"},
        "request_id": {"type": "string", "description": "the X-Request-ID of the request, for the logs"},
        "errors": {
            "type": "object",
            "additionalProperties": True,
            "description": "field (or row) → messages, when particular fields are at fault",
        },
    },
}
VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "description": "The request's fields (path, query, body) are invalid: ``errors`` says which and why.",
    "allOf": [
        {"$ref": PROBLEM_REF},
        {
            "type": "object",
            "required": ["errors"],
            "properties": {
                "errors": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "field → messages (nested for objects and lists; ``_schema``: the body as a whole)",
                }
            },
        },
    ],
}

#: What each common error means, used as the description of its response component.
DESCRIPTIONS = {
    400: "The body is not well-formed (e.g. malformed JSON)",
    401: "No valid bearer token (missing, expired, tampered, or its account disabled or changed)",
    403: "The caller's role may not do this (admins only)",
    404: "Nothing with this id (or not one the caller may see)",
    405: "The path does not take this method",
    409: "The request conflicts with the resource's current state",
    413: "The body is larger than allowed",
    415: "The body is not of a kind this operation reads",
    422: "Validation failed: ``errors`` names the fields at fault",
    429: "Too many requests: wait ``Retry-After`` seconds",
    502: "The service behind the gateway is unavailable",
    504: "The service behind the gateway did not answer in time",
}


def problem_content(status: int) -> dict[str, Any]:
    """The ``content`` of an error response: problem+json, ValidationProblem for 422."""
    ref = VALIDATION_PROBLEM_REF if status == 422 else PROBLEM_REF
    return {PROBLEM: {"schema": {"$ref": ref}}}


def response_name(status: int) -> str:
    """The response component of an error status (flask-smorest's names: ``NOT_FOUND``...)."""
    return http.HTTPStatus(status).name


def register_problem_components(spec: APISpec) -> None:
    """The Problem schemas and a problem+json response component for every error status."""
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    spec.components.schema("ValidationProblem", VALIDATION_PROBLEM_SCHEMA)
    for status in http.HTTPStatus:
        if status >= 400:
            response = {
                "description": DESCRIPTIONS.get(status, status.phrase),
                "content": problem_content(status),
            }
            spec.components.response(status.name, response, lazy=True)


class ProblemResponsesPlugin(BasePlugin):
    """Adds the common error answers to every operation (runs after flask-smorest's plugins)."""

    def init_spec(self, spec: APISpec) -> None:
        self.spec = spec

    def schema_helper(self, name: str, definition: dict[str, Any], **kwargs: Any) -> dict[str, Any] | None:
        # A schema class may add keywords marshmallow cannot say (minProperties, anyOf...).
        schema = kwargs.get("schema")
        extra = getattr(schema, "openapi_extra", None)
        return copy.deepcopy(extra) if extra else None

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        has_path_parameters = "{" in (path or "")
        for operation in (operations or {}).values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = {str(code): answer for code, answer in operation["responses"].items()}
            added: list[int] = []
            if operation.get("security") != []:
                added.append(401)
            if has_path_parameters:
                added.append(404)
            body = operation.get("requestBody")
            if body:
                added.append(413)
                if "application/json" in body.get("content", {}):
                    added.append(400)
                body["required"] = any(self._requires_something(c.get("schema")) for c in body["content"].values())
            for status in added:
                responses.setdefault(str(status), response_name(status))
            for code, answer in responses.items():
                if code.isdigit() and int(code) >= 400 and isinstance(answer, dict) and "content" not in answer:
                    answer["content"] = problem_content(int(code))
                    answer.setdefault("description", DESCRIPTIONS.get(int(code), http.HTTPStatus(int(code)).phrase))
            operation["responses"] = dict(sorted(responses.items()))

    def _requires_something(self, schema: Any) -> bool:
        if isinstance(schema, dict) and "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.spec.components.schemas.get(name, {})
        if not isinstance(schema, dict):
            return True
        return bool(schema.get("required") or schema.get("minProperties") or schema.get("anyOf"))


def admin_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view only admins may call: 403 for anyone else (before the view runs), documented as such."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_admin()
        return view(*args, **kwargs)

    apidoc = copy.deepcopy(getattr(view, "_apidoc", {}))
    apidoc.setdefault("manual_doc", {}).setdefault("responses", {})["403"] = response_name(403)
    wrapper._apidoc = apidoc  # type: ignore[attr-defined]  # flask-smorest's doc store
    return wrapper


def documented_elsewhere(arguments: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Callable[..., Any]:
    """Parse with ``arguments`` (a ``blp.arguments(...)`` decorator) but leave it out of the docs.

    flask-smorest documents each location as its own body; a multipart body's text fields
    (``location="form"``) and files (``location="files"``) arrive in two locations, so the
    files argument's schema documents the whole body and the form argument only parses.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        before = len(getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []))
        parsed = arguments(view)
        apidoc = copy.deepcopy(getattr(parsed, "_apidoc", {}))
        parameters = apidoc.get("arguments", {}).get("parameters", [])
        del parameters[before:]
        parsed._apidoc = apidoc  # type: ignore[attr-defined]
        return parsed

    return decorator
