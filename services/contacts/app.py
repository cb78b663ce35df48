"""Contacts' app factory."""

from __future__ import annotations

from flask import Flask

from shared.config import load_settings
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
        "contacts", settings, title="Contacts", runtime_obj=runtime, blueprints=[blp, dead_letters_blueprint(messaging)]
    )
    return app
