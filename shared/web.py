"""Flask building blocks every HTTP process uses: the app base, auth, problem+json, health, paging.

``create_service_app`` is called by each service's ``create_app`` factory; it binds the
service's runtime (settings, engine, sessions) to the app, verifies bearer tokens on every
route but the public ones, propagates ``X-Request-ID``, maps every error to
``application/problem+json`` and serves ``/healthz``, ``/readyz`` and the service's OpenAPI.
"""
from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import Flask, current_app, g, jsonify, request
from flask_smorest import Api
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from .auth import Principal, verify_token
from .broker import broker_reachable
from .config import Settings
from .context import new_request_id, request_id_var
from .db import make_engine, make_session_factory, ping, unit_of_work
from .errors import DomainError, Forbidden, Unauthorized
from .ids import MAX_ID
from .logs import configure_logging
from .messaging import utcnow

log = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = {"healthz", "readyz", "static", "api-docs.openapi_json"}
PROBLEM = "application/problem+json"


@dataclass
class Runtime:
    """What a process of a service holds: its settings, engine and session factory."""

    settings: Settings
    engine: object
    session_factory: object

    @classmethod
    def build(cls, settings: Settings) -> "Runtime":
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_session_factory(engine))


def runtime() -> Runtime:
    """The runtime bound to the current app."""
    return current_app.extensions["runtime"]


def now() -> dt.datetime:
    """The current instant (aware UTC) by the app's clock, which tests may replace."""
    return current_app.extensions["clock"]()


def pharmacy_today() -> dt.date:
    """Today in the pharmacy's time zone (``PHARMACY_TZ``), not UTC: what "today" means to staff."""
    return now().astimezone(ZoneInfo(runtime().settings.pharmacy_tz)).date()


@contextmanager
def transaction():
    """A unit of work on the current app's database (commit on success, roll back on error)."""
    with unit_of_work(runtime().session_factory) as session:
        yield session


def problem(status: int, title: str, detail: str | None = None, errors: dict | None = None,
            type_: str = "about:blank", headers: dict | None = None):
    """A problem+json response (RFC 9457)."""
    body = {"type": type_, "title": title, "status": status, "detail": detail or title}
    if errors:
        body["errors"] = errors
    rid = request_id_var.get()
    if rid:
        body["request_id"] = rid
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` ids that fit an INTEGER column; a larger number is a 404, not a database error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class ProblemApi(Api):
    """flask-smorest Api whose errors (including its 422 validation aborts) are problem+json."""

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        messages = data.get("messages")
        errors = None
        if messages:
            # smorest nests messages by location ("json", "query", "form"); flatten for clients.
            errors = {}
            for location_messages in messages.values():
                if isinstance(location_messages, dict):
                    errors.update(location_messages)
        status = error.code or 500
        title = error.name if status != 422 else "Validation failed"
        detail = data.get("message") or error.description
        if status == 422 and errors:
            detail = "the request has invalid fields: " + ", ".join(sorted(map(str, errors)))
        headers = dict(error.get_headers()) if status in (405, 429) else {}
        headers.pop("Content-Type", None)
        return problem(status, title, detail, errors, headers=headers)


def current_principal() -> Principal:
    """The authenticated caller of this request."""
    return g.principal


def require_admin() -> Principal:
    """The caller, who must be an admin (403 otherwise)."""
    principal = current_principal()
    if not principal.is_admin:
        raise Forbidden("this action needs the admin role")
    return principal


def create_service_app(name: str, settings: Settings, *, title: str, blueprints: Iterable = (),
                       runtime_obj: Runtime | None = None, public_endpoints: Iterable[str] = (),
                       check_broker: bool = True, messaging=None,
                       clock: Callable[[], dt.datetime] | None = None) -> tuple[Flask, ProblemApi]:
    """The Flask app of one HTTP process, with everything common wired in.

    ``runtime_obj`` lets tests pass a runtime built on their own database; ``messaging`` (the
    service's MessagingTables) mounts the admin dead-letter routes of a consuming service;
    ``clock`` replaces "now" (aware UTC) for tests of date rules.
    """
    configure_logging(name, settings.log_level)
    app = Flask(name)
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.config.update(
        API_TITLE=title, API_VERSION="1.0.0", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=max(settings.max_json_bytes, settings.max_upload_bytes),
        API_SPEC_OPTIONS={"components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "security": [{"bearerAuth": []}]},
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False
    app.json.ensure_ascii = False
    app.extensions["runtime"] = runtime_obj or Runtime.build(settings)
    app.extensions["clock"] = clock or utcnow
    public = PUBLIC_ENDPOINTS | set(public_endpoints)

    @app.before_request
    def _context():
        rid = request.headers.get("X-Request-ID") or new_request_id()
        g.request_id_token = request_id_var.set(rid[:200])
        g.request_id = rid[:200]
        if request.content_length and request.mimetype == "application/json" \
                and request.content_length > settings.max_json_bytes:
            return problem(413, "Payload too large", f"JSON bodies are limited to {settings.max_json_bytes} bytes")
        if request.endpoint in public or request.method == "OPTIONS":
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("a bearer token is required")
        g.principal = verify_token(token.strip(), settings.jwt_secret)
        return None

    @app.after_request
    def _echo_request_id(response):
        if getattr(g, "request_id", None):
            response.headers["X-Request-ID"] = g.request_id
        return response

    @app.teardown_request
    def _reset(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "service": name}

    @app.get("/readyz")
    def readyz():
        checks = {}
        try:
            ping(runtime().engine)
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            checks["database"] = f"unavailable: {type(exc).__name__}"
        if check_broker:
            checks["broker"] = "ok" if broker_reachable(settings.amqp_url) else "unavailable"
        ready = all(v == "ok" for v in checks.values())
        return {"status": "ready" if ready else "not ready", "checks": checks}, (200 if ready else 503)

    api = ProblemApi(app)
    blueprints = list(blueprints)
    if messaging is not None:
        from .dead_letters_api import dead_letters_blueprint
        blueprints.append(dead_letters_blueprint(messaging))
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix="/api/v1" + (blueprint.url_prefix or ""))
    register_error_handlers(app)
    return app, api


def register_error_handlers(app: Flask) -> None:
    """The one mapper from exceptions to problem+json for an app."""

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        headers = {"Retry-After": str(error.retry_after)} if hasattr(error, "retry_after") else None
        return problem(error.status, error.title, error.detail, error.errors, headers=headers)

    @app.errorhandler(ma.ValidationError)
    def _validation(error: ma.ValidationError):
        errors = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        return problem(422, "Validation failed", "the request has invalid fields", errors)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        return problem(500, "Internal server error", "the server failed to handle the request; it was logged")


# -- lists -------------------------------------------------------------------------------
MAX_PER_PAGE = 200


class PageArgs(ma.Schema):
    """``?page=1&per_page=50`` (per_page capped at 200)."""

    class Meta:
        unknown = ma.EXCLUDE

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=1_000_000))
    per_page = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_PER_PAGE))


def page_schema(item_schema_cls: type[ma.Schema], name: str | None = None) -> type[ma.Schema]:
    """A list envelope schema ``{items, page, per_page, total}`` for ``item_schema_cls``."""
    attrs = {
        "items": ma.fields.List(ma.fields.Nested(item_schema_cls)),
        "page": ma.fields.Integer(),
        "per_page": ma.fields.Integer(),
        "total": ma.fields.Integer(),
    }
    return type(name or f"{item_schema_cls.__name__.removesuffix('Schema')}PageSchema", (ma.Schema,), attrs)


def paginate(session, stmt, page: int, per_page: int) -> dict:
    """Run ``stmt`` for one page; return ``{items, page, per_page, total}``."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": items, "page": page, "per_page": per_page, "total": total}
