"""Billing's app factory."""

from __future__ import annotations

from flask import Flask

from shared.config import Settings, load_settings
from shared.runtime import Runtime
from shared.web import create_service_app

from .api import blp
from .models import messaging


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    """The billing API; tests pass their own settings and runtime."""
    settings = settings or load_settings("billing")
    app, _api = create_service_app(
        "billing", settings, title="Billing", blueprints=[blp], runtime_obj=runtime, messaging=messaging
    )
    return app
