"""Customers' app factory."""

from __future__ import annotations

from flask import Flask

from shared.config import Settings, load_settings
from shared.dead_letters_api import dead_letters_blueprint
from shared.runtime import Runtime
from shared.web import create_service_app

from .api import audit_blp, blp, consent_blp
from .models import messaging


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """The customers API; tests pass their own settings and runtime."""
    settings = settings or load_settings("customers")
    app, _api = create_service_app(
        "customers",
        settings,
        title="Customers",
        runtime_obj=runtime,
        blueprints=[blp, consent_blp, audit_blp, dead_letters_blueprint(messaging)],
        messaging=messaging,
    )
    return app
