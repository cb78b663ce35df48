"""Contacts' app factory."""

from __future__ import annotations

from flask import Flask, request

from shared.config import load_settings
from shared.db import set_reads_only
from shared.dead_letters_api import dead_letters_blueprint
from shared.runtime import Runtime
from shared.web import create_service_app

from .api import blp
from .models import messaging
from .settings import ContactsSettings


def create_app(settings: ContactsSettings | None = None, runtime: Runtime | None = None) -> Flask:
    """The contacts API; tests pass their own settings (``ContactsSettings``) and runtime."""
    settings = settings or load_settings("contacts", cls=ContactsSettings)
    app, _api = create_service_app(
        "contacts",
        settings,
        title="Contacts",
        runtime_obj=runtime,
        blueprints=[blp, dead_letters_blueprint(messaging)],
        messaging=messaging,
    )
    # GET requests only read: on SQLite their transactions take no write lock, so they never
    # wait behind an import or a worker writing (see shared.db.reads_only).
    app.before_request(_reads_only_for_get)
    app.teardown_request(_writes_again)
    return app


def _reads_only_for_get() -> None:
    set_reads_only(request.method in ("GET", "HEAD"))


def _writes_again(_exc: BaseException | None) -> None:
    set_reads_only(False)
