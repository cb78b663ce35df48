"""The app factory every HTTP process uses: ``create_service_app``, a short list of ``register_*`` steps.

Each service's ``create_app`` calls it; it binds the service's runtime (settings, engine,
sessions) and clock to the app, propagates ``X-Request-ID``, limits JSON bodies, verifies
bearer tokens on every route but the public ones, serves ``/healthz``, ``/readyz`` and
``/metrics`` (Prometheus: request counts and latencies, the outbox gauges), mounts
the service's blueprints under ``/api/v1`` (with its OpenAPI document) and maps every error to
``application/problem+json``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import marshmallow as ma
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask, Response, g, request
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from ..auth import load_public_key, verify_token
from ..broker import broker_reachable
from ..clock import Clock, utcnow
from ..config import Settings
from ..context import new_request_id, request_id_var
from ..db import ping
from ..errors import DomainError, Unauthorized
from ..ids import MAX_ID
from ..logs import configure_logging
from ..messaging import MessagingTables
from ..metrics import OutboxCollector, exposition, http_request
from ..runtime import Runtime
from .http import CLOCK_KEY, RUNTIME_KEY, problem, runtime
from .openapi import ProblemResponsesPlugin, register_problem_components

log = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = frozenset({"healthz", "readyz", "metrics", "static", "api-docs.openapi_json"})
#: Request ids longer than this are cut (they are echoed and logged).
MAX_REQUEST_ID = 200


def create_service_app(
    name: str,
    settings: Settings,
    *,
    title: str,
    blueprints: Iterable[Blueprint] = (),
    runtime_obj: Runtime | None = None,
    public_endpoints: Iterable[str] = (),
    check_broker: bool = True,
    clock: Clock | None = None,
    messaging: MessagingTables | None = None,
) -> tuple[Flask, ProblemApi]:
    """The Flask app of one HTTP process, with everything common wired in.

    ``runtime_obj`` lets tests pass a runtime built on their own database (used under
    ``settings`` when those differ); ``clock`` replaces "now" (aware UTC) for tests of date
    rules. A consuming service lists ``dead_letters_blueprint(messaging)`` among its blueprints;
    a service with an outbox passes its ``messaging`` tables, and ``/metrics`` reports the outbox.
    """
    configure_logging(name, settings.log_level)
    app = Flask(name)
    configure_app(app, title, settings)
    bind_runtime(
        app,
        (runtime_obj or Runtime.build(settings)).with_settings(settings),
        clock or utcnow,
    )
    # First, so its timer starts before (and its count sees the answer of) every other hook.
    register_metrics(app, name, messaging)
    register_request_context(app)
    register_body_limit(app, settings.max_json_bytes)
    register_auth(
        app,
        load_public_key(settings.jwt_public_key_file, development=settings.development),
        PUBLIC_ENDPOINTS | set(public_endpoints),
    )
    register_health(app, name, check_broker=check_broker)
    api = register_blueprints(app, blueprints)
    register_error_handlers(app)
    return app, api


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` ids that fit an INTEGER column; a larger number is a 404, not a database error."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def configure_app(app: Flask, title: str, settings: Settings) -> None:
    """OpenAPI metadata (bearer auth by default), the body cap, JSON as written, bounded int ids."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.config.update(
        API_TITLE=title,
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=max(settings.max_json_bytes, settings.max_upload_bytes),
        API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {
                    "bearerAuth": {
                        "type": "http",
                        "scheme": "bearer",
                        "bearerFormat": "JWT",
                    }
                }
            },
            "security": [{"bearerAuth": []}],
        },
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]


def bind_runtime(app: Flask, runtime_obj: Runtime, clock: Clock) -> None:
    """Make the runtime and clock what ``shared.web.runtime()``/``now()`` return in this app."""
    app.extensions[RUNTIME_KEY] = runtime_obj
    app.extensions[CLOCK_KEY] = clock


def register_metrics(app: Flask, name: str, messaging: MessagingTables | None = None) -> None:
    """Count and time every request by route template and status; serve ``GET /metrics`` (public).

    The route label is the matched URL rule (``/api/v1/bills/<int:bill_id>``), never the raw path.
    ``/metrics`` sums every gunicorn worker's samples (``shared.metrics``) and, with ``messaging``,
    adds the service's outbox gauges read at scrape time. It is not an API route: it stays out of
    the OpenAPI document.
    """

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count_request(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:
            rule = request.url_rule
            http_request(
                name,
                request.method,
                rule.rule if rule is not None else None,
                response.status_code,
                time.perf_counter() - started,
            )
        return response

    @app.get("/metrics", endpoint="metrics")
    def metrics() -> Response:
        collectors = [] if messaging is None else [OutboxCollector(name, runtime().engine, messaging.outbox)]
        body, content_type = exposition(request.headers.get("Accept"), *collectors)
        response = Response(body, content_type=content_type)
        response.headers["Cache-Control"] = "no-store"
        return response


def register_request_context(app: Flask) -> None:
    """Take the caller's ``X-Request-ID`` (or make one), log and echo it; it becomes events' correlation id."""

    @app.before_request
    def _bind_request_id() -> None:
        rid = (request.headers.get("X-Request-ID") or new_request_id())[:MAX_REQUEST_ID]
        g.request_id_token = request_id_var.set(rid)
        g.request_id = rid

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        if getattr(g, "request_id", None):
            response.headers["X-Request-ID"] = g.request_id
        return response

    @app.teardown_request
    def _reset_request_id(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)


def register_body_limit(app: Flask, max_json_bytes: int) -> None:
    """Refuse a JSON body above ``max_json_bytes`` by its Content-Length, before reading it (413)."""

    @app.before_request
    def _limit_json_body() -> Response | None:
        if (
            request.content_length
            and request.mimetype == "application/json"
            and request.content_length > max_json_bytes
        ):
            return problem(
                413,
                "Payload too large",
                f"JSON bodies are limited to {max_json_bytes} bytes",
            )
        return None


def register_auth(app: Flask, public_key: Ed25519PublicKey, public: Iterable[str]) -> None:
    """Every route but the ``public`` endpoints (and CORS preflights) needs a token the gateway signed.

    The app holds only the gateway's public key: it can check a token, never mint one.
    """
    public = frozenset(public)

    @app.before_request
    def _authenticate() -> None:
        if request.endpoint in public or request.method == "OPTIONS":
            return
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("a bearer token is required")
        g.principal = verify_token(token.strip(), public_key)


def register_health(app: Flask, name: str, *, check_broker: bool = True) -> None:
    """``/healthz`` (the process answers) and ``/readyz`` (its database, and broker, answer)."""

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "service": name}

    @app.get("/readyz")
    def readyz() -> tuple[dict[str, Any], int]:
        checks: dict[str, str] = {}
        try:
            ping(runtime().engine)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        if check_broker:
            checks["broker"] = "ok" if broker_reachable(runtime().settings.amqp_url) else "unavailable"
        ready = all(v == "ok" for v in checks.values())
        return {"status": "ready" if ready else "not ready", "checks": checks}, (200 if ready else 503)


def register_blueprints(app: Flask, blueprints: Iterable[Blueprint]) -> ProblemApi:
    """The service's blueprints under ``/api/v1``, documented in its ``/openapi.json``."""
    api = ProblemApi(app)
    for blueprint in blueprints:
        api.register_blueprint(blueprint, url_prefix="/api/v1" + (blueprint.url_prefix or ""))
    return api


class ProblemApi(Api):  # type: ignore[misc]  # flask-smorest ships no type hints
    """flask-smorest Api whose errors (including its 422 validation aborts) are problem+json,
    and documented so (``shared.web.openapi``): no catch-all ``default`` answer, but the error
    statuses each operation can get, each ``application/problem+json``."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _init_spec(self, *, extra_plugins: Iterable[Any] = (), **options: Any) -> None:
        super()._init_spec(extra_plugins=[*extra_plugins, ProblemResponsesPlugin()], **options)

    def _register_responses(self) -> None:
        # Instead of flask-smorest's application/json ``Error`` for every status.
        register_problem_components(self.spec)

    def handle_http_exception(self, error: HTTPException) -> Response:
        data = getattr(error, "data", None) or {}
        messages = data.get("messages")
        errors: dict[str, Any] | None = None
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


def register_error_handlers(app: Flask) -> None:
    """The one mapper from exceptions to problem+json for an app."""

    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> Response:
        retry_after = getattr(error, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return problem(error.status, error.title, error.detail, error.errors, headers=headers)

    @app.errorhandler(ma.ValidationError)
    def _validation(error: ma.ValidationError) -> Response:
        errors = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        return problem(422, "Validation failed", "the request has invalid fields", errors)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return problem(
            500,
            "Internal server error",
            "the server failed to handle the request; it was logged",
        )
