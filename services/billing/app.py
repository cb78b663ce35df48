"""Billing's app factory."""
from __future__ import annotations

from shared.config import load_settings
from shared.web import create_service_app

from .api import blp


def create_app(settings=None, runtime=None):
    """The billing API; tests pass their own settings and runtime."""
    settings = settings or load_settings("billing")
    app, _api = create_service_app("billing", settings, title="Billing", blueprints=[blp], runtime_obj=runtime)
    return app
