"""Request-scope helpers of every HTTP process: the app's runtime and clock, the caller, problem+json.

Views call these instead of reaching into ``current_app``; use cases get what they return as
plain arguments (a session, settings, a clock), never Flask itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar, cast, overload
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, jsonify
from sqlalchemy.orm import Session

from ..auth import Principal
from ..clock import Clock
from ..config import Settings
from ..context import request_id_var
from ..db import unit_of_work
from ..errors import Forbidden
from ..runtime import Runtime

PROBLEM = "application/problem+json"
#: Where ``create_service_app`` keeps the runtime and the clock in ``app.extensions``.
RUNTIME_KEY = "runtime"
CLOCK_KEY = "clock"

SettingsT = TypeVar("SettingsT", bound=Settings)


def runtime() -> Runtime:
    """The runtime bound to the current app."""
    return cast(Runtime, current_app.extensions[RUNTIME_KEY])


@overload
def current_settings() -> Settings: ...
@overload
def current_settings(cls: type[SettingsT]) -> SettingsT: ...
def current_settings(cls: type[Settings] = Settings) -> Settings:
    """The current app's settings, which must be a ``cls`` (a service's own subclass of Settings)."""
    settings = runtime().settings
    if not isinstance(settings, cls):
        raise TypeError(f"this app runs with {type(settings).__name__}, not {cls.__name__}")
    return settings


def now() -> dt.datetime:
    """The current instant (aware UTC) by the app's clock, which tests may replace."""
    return cast(Clock, current_app.extensions[CLOCK_KEY])()


def pharmacy_today() -> dt.date:
    """Today in the pharmacy's time zone (``PHARMACY_TZ``), not UTC: what "today" means to staff."""
    return now().astimezone(ZoneInfo(runtime().settings.pharmacy_tz)).date()


@contextmanager
def transaction() -> Iterator[Session]:
    """A unit of work on the current app's database (commit on success, roll back on error)."""
    with unit_of_work(runtime().session_factory) as session:
        yield session


def problem(
    status: int,
    title: str,
    detail: str | None = None,
    errors: Mapping[str, Any] | None = None,
    type_: str = "about:blank",
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem+json response (RFC 9457)."""
    body: dict[str, Any] = {
        "type": type_,
        "title": title,
        "status": status,
        "detail": detail or title,
    }
    if status == 422 and not errors:
        # A validation problem always says what is wrong (the ValidationProblem schema requires it).
        errors = {"_schema": [body["detail"]]}
    if errors:
        body["errors"] = dict(errors)
    rid = request_id_var.get()
    if rid:
        body["request_id"] = rid
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def current_principal() -> Principal:
    """The authenticated caller of this request."""
    return cast(Principal, g.principal)


def require_admin() -> Principal:
    """The caller, who must be an admin (403 otherwise)."""
    principal = current_principal()
    if not principal.is_admin:
        raise Forbidden("this action needs the admin role")
    return principal
