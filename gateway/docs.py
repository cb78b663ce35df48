"""One OpenAPI document for the whole system, docs pages for it, and the event contract as AsyncAPI
(``shared.asyncapi``) beside it.

``/api/v1/docs`` is Swagger UI (vendored in ``gateway/swagger_ui/``, served from here: no CDN, no
inline script), where a user signs in with "Authorize" and tries calls; ``/api/v1/docs/plain``
is the same document as one static page without any script. Both, their assets and the
documents are public: they share the endpoint ``docs.docs_page``.

The gateway's own spec (flask-smorest) is merged with each service's ``/openapi.json``; only
the paths the gateway routes to a service are taken from it. Component names that clash
with a different definition are prefixed with the service's name (and references rewritten).
"""

from __future__ import annotations

import copy
import html
import threading
import time
from pathlib import Path

from flask import Blueprint, Response, current_app, send_from_directory

from shared.asyncapi import asyncapi_document
from shared.web import current_settings
from shared.web.openapi import DESCRIPTIONS, problem_content

from .proxy import get_from_each, owner_of
from .settings import DEFAULT_UPSTREAMS

docs_blp = Blueprint("docs", __name__)
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
DOCS_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'"
)
SWAGGER_UI = Path(__file__).resolve().parent / "swagger_ui"
#: The files of ``gateway/swagger_ui`` the Swagger UI page loads (nothing else there is served).
SWAGGER_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "swagger-initializer.js")
#: Scripts and styles from the gateway only (none inline: Swagger UI's React sets styles through
#: the DOM, which CSP does not restrict); calls go to the gateway only.
SWAGGER_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pharmacy customer tracking API</title>
<link rel="stylesheet" href="/api/v1/docs/assets/swagger-ui.css">
</head>
<body>
<noscript><p>This page needs JavaScript: <a href="/api/v1/docs/plain">the API without scripts</a>.</p></noscript>
<p><a href="/api/v1/docs/plain">The same API as a plain page</a> ·
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a> ·
<a href="/api/v1/asyncapi.json">/api/v1/asyncapi.json</a> (events)</p>
<div id="swagger-ui"></div>
<script src="/api/v1/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/v1/docs/assets/swagger-initializer.js"></script>
</body>
</html>
"""


def service_specs() -> list[tuple[str, dict | None, str | None]]:
    """``(service, spec or None, why not)`` for every service, fetched concurrently."""
    return get_from_each(DEFAULT_UPSTREAMS, "/openapi.json")


def _rewrite_refs(node, renames: dict[str, str]):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value in renames:
                out[key] = renames[value]
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(value, renames) for value in node]
    return node


def merge_specs(own: dict, services: list[tuple[str, dict | None, str | None]]) -> dict:
    """The gateway's spec with each available service's routed paths and components merged in."""
    merged = copy.deepcopy(own)
    merged.setdefault("paths", {})
    components = merged.setdefault("components", {})
    tags = {tag["name"]: tag for tag in merged.get("tags", [])}
    missing = []
    for service, spec, why in services:
        if spec is None:
            missing.append(f"{service} ({why})")
            continue
        renames: dict[str, str] = {}
        taken: dict[str, dict] = {}
        for kind, entries in (spec.get("components") or {}).items():
            target = components.setdefault(kind, {})
            for name, definition in entries.items():
                final = name
                if name in target and target[name] != definition:
                    final = f"{service.capitalize()}{name}"
                    renames[f"#/components/{kind}/{name}"] = f"#/components/{kind}/{final}"
                taken.setdefault(kind, {})[final] = definition
        for kind, entries in taken.items():
            for name, definition in entries.items():
                components[kind][name] = _rewrite_refs(definition, renames)
        for path, item in (spec.get("paths") or {}).items():
            routed = path.startswith("/api/v1/") and owner_of(path.removeprefix("/api/v1")) == service
            if routed and path not in merged["paths"]:
                merged["paths"][path] = _with_gateway_errors(_rewrite_refs(item, renames), components)
        for tag in spec.get("tags", []):
            tags.setdefault(tag["name"], tag)
    merged["tags"] = list(tags.values())
    merged["info"] = {
        "title": "Pharmacy customer tracking API",
        "version": own.get("info", {}).get("version", "1.0.0"),
        "description": "Every route of the system as served by the gateway under /api/v1. "
        "Authenticate with POST /api/v1/auth/login, then send `Authorization: Bearer <token>`."
        + (
            " Unavailable when this document was built (their routes are missing): " + ", ".join(missing) + "."
            if missing
            else ""
        ),
    }
    merged["servers"] = [{"url": "/"}]
    return merged


#: What the gateway itself may answer on a routed path, beside the service's own answers.
GATEWAY_ERRORS = {"502": "BAD_GATEWAY", "504": "GATEWAY_TIMEOUT"}


def _with_gateway_errors(item: dict, components: dict) -> dict:
    """A routed path item whose operations also document the gateway's 502 and 504 (problem+json)."""
    responses = components.setdefault("responses", {})
    for status, name in GATEWAY_ERRORS.items():
        responses.setdefault(
            name,
            {
                "description": DESCRIPTIONS[int(status)],
                "content": problem_content(int(status)),
            },
        )
    for method, operation in item.items():
        if method in METHODS and isinstance(operation, dict):
            answers = operation.setdefault("responses", {})
            for status, name in GATEWAY_ERRORS.items():
                answers.setdefault(status, {"$ref": f"#/components/responses/{name}"})
    return item


SPEC_TTL_SECONDS = 30.0
_spec_lock = threading.Lock()


def aggregated_spec() -> dict:
    """The merged spec, rebuilt at most every 30 s per process (docs are public: no fan-out per hit)."""
    cache = current_app.extensions.setdefault("gateway_spec_cache", {})
    with _spec_lock:
        if cache.get("spec") is None or time.monotonic() - cache["at"] > SPEC_TTL_SECONDS:
            own = current_app.extensions["gateway_api"].spec.to_dict()
            services = service_specs()
            spec = merge_specs(own, services)
            # Keep a partial spec (a service down) only briefly, so it fills in once the service is up.
            cache["spec"], cache["at"] = (
                spec,
                time.monotonic() - (0 if all(body for _, body, _ in services) else SPEC_TTL_SECONDS - 2),
            )
        return cache["spec"]


@docs_blp.get("/api/v1/openapi.json")
def openapi_json():
    return aggregated_spec()


@docs_blp.get("/api/v1/asyncapi.json")
def asyncapi_json():
    """The event contract (AsyncAPI 3.0): what an integration may publish and consume."""
    settings = current_settings()
    return asyncapi_document(exchange=settings.exchange, dead_letter_exchange=settings.dead_letter_exchange)


# One endpoint (public in gateway.app) for the docs pages and their assets.
@docs_blp.get("/api/v1/docs", defaults={"page": "swagger", "asset": None})
@docs_blp.get("/api/v1/docs/plain", defaults={"page": "plain", "asset": None})
@docs_blp.get(f"/api/v1/docs/assets/<any({', '.join(map(repr, SWAGGER_ASSETS))}):asset>", defaults={"page": "asset"})
def docs_page(page: str, asset: str | None):
    if page == "asset":
        return send_from_directory(SWAGGER_UI, str(asset), max_age=3600)
    if page == "plain":
        response = Response(render_docs(aggregated_spec()), mimetype="text/html")
        response.headers["Content-Security-Policy"] = DOCS_CSP
        return response
    response = Response(SWAGGER_PAGE, mimetype="text/html")
    response.headers["Content-Security-Policy"] = SWAGGER_CSP
    return response


# -- rendering ------------------------------------------------------------------------------
def _resolve(spec: dict, node, depth: int = 0):
    while isinstance(node, dict) and "$ref" in node and depth < 20:
        parts = node["$ref"].removeprefix("#/").split("/")
        target = spec
        for part in parts:
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node, depth = target, depth + 1
    return node


def _schema_text(spec: dict, schema, depth: int = 0) -> str:
    """A compact, readable rendering of a JSON schema (nested up to a few levels)."""
    if depth > 4:
        return "…"
    name = schema.get("$ref", "").rsplit("/", 1)[-1] if isinstance(schema, dict) else ""
    schema = _resolve(spec, schema) or {}
    kind = schema.get("type", "")
    if kind == "array":
        return f"[{_schema_text(spec, schema.get('items', {}), depth + 1)}]"
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        lines = []
        pad = "  " * (depth + 1)
        for prop, sub in (schema.get("properties") or {}).items():
            mark = "" if prop in required else "?"
            lines.append(f"{pad}{prop}{mark}: {_schema_text(spec, sub, depth + 1)}")
        head = f"{name} " if name else ""
        return head + "{\n" + "\n".join(lines) + "\n" + "  " * depth + "}" if lines else (head + "{…}").strip()
    bits = [kind or name or "any"]
    if schema.get("format"):
        bits.append(f"({schema['format']})")
    if schema.get("enum"):
        bits.append("one of " + ", ".join(map(str, schema["enum"])))
    if schema.get("nullable"):
        bits.append("or null")
    return " ".join(bits)


def render_docs(spec: dict) -> str:
    """The whole API as one static HTML page."""
    e = html.escape
    info = spec.get("info", {})
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(info.get('title', 'API'))}</title><meta name='viewport' content='width=device-width'>",
        (
            "<style>body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1000px;padding:1rem;color:#222}"
            "h2{border-bottom:2px solid #ddd;margin-top:2rem}details{border:1px solid #ddd;border-radius:6px;"
            "margin:.4rem 0;padding:.3rem .6rem}summary{cursor:pointer}code,pre{font:12px/1.4 ui-monospace,monospace}"
            "pre{background:#f6f6f6;padding:.5rem;overflow:auto}.m{display:inline-block;min-width:4.5em;font-weight:700}"
            ".get{color:#0a6}.post{color:#06c}.patch,.put{color:#b60}.delete{color:#c22}table{border-collapse:collapse}"
            "td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}nav a{margin-right:.6rem}</style></head><body>"
        ),
        f"<h1>{e(info.get('title', 'API'))} <small>{e(str(info.get('version', '')))}</small></h1>",
        f"<p>{e(info.get('description', ''))}</p>",
        (
            "<p>Machine-readable: <a href='/api/v1/openapi.json'>/api/v1/openapi.json</a>; the events"
            " (AsyncAPI): <a href='/api/v1/asyncapi.json'>/api/v1/asyncapi.json</a>; to try calls:"
            " <a href='/api/v1/docs'>/api/v1/docs</a> (Swagger UI)</p>"
        ),
    ]
    groups: dict[str, list] = {}
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in METHODS:
            if method in item:
                operation = item[method]
                tag = (operation.get("tags") or ["other"])[0]
                groups.setdefault(tag, []).append((path, method, operation, item.get("parameters", [])))
    out.append("<nav>" + "".join(f"<a href='#tag-{e(tag)}'>{e(tag)}</a>" for tag in groups) + "</nav>")
    for tag, operations in groups.items():
        out.append(f"<h2 id='tag-{e(tag)}'>{e(tag)}</h2>")
        for path, method, operation, shared_params in operations:
            out.append(
                f"<details><summary><span class='m {method}'>{method.upper()}</span> <code>{e(path)}</code>"
                f" — {e(operation.get('summary', ''))}</summary>"
            )
            if operation.get("description"):
                out.append(f"<p>{e(operation['description'])}</p>")
            # An operation's parameter overrides the path-level one of the same name and location.
            by_key = {}
            for p in [_resolve(spec, p) for p in list(shared_params) + list(operation.get("parameters", []))]:
                by_key[(p.get("name"), p.get("in"))] = p
            params = list(by_key.values())
            if params:
                out.append("<table><tr><th>parameter</th><th>in</th><th>schema</th><th>required</th></tr>")
                for p in params:
                    out.append(
                        f"<tr><td>{e(p.get('name', ''))}</td><td>{e(p.get('in', ''))}</td>"
                        f"<td>{e(_schema_text(spec, p.get('schema', {})))}</td>"
                        f"<td>{'yes' if p.get('required') else ''}</td></tr>"
                    )
                out.append("</table>")
            body = _resolve(spec, operation.get("requestBody", {}))
            for media, content in (body.get("content") or {}).items():
                out.append(
                    f"<p>Request body <code>{e(media)}</code>:</p>"
                    f"<pre>{e(_schema_text(spec, content.get('schema', {})))}</pre>"
                )
            for status, answer in (operation.get("responses") or {}).items():
                answer = _resolve(spec, answer)
                out.append(f"<p><b>{e(str(status))}</b> {e(answer.get('description', ''))}</p>")
                for media, content in (answer.get("content") or {}).items():
                    if content.get("schema") and str(status).startswith("2"):
                        out.append(f"<pre>{e(media)}: {e(_schema_text(spec, content['schema']))}</pre>")
            out.append("</details>")
    out.append("</body></html>")
    return "\n".join(out)
