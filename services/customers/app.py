"""Customers' app factory."""
from __future__ import annotations

from shared.config import load_settings
from shared.web import create_service_app

from .models import messaging

from .api import audit_blp, blp


def create_app(settings=None, runtime=None):
    """The customers API; tests pass their own settings and runtime."""
    settings = settings or load_settings("customers")
    app, _api = create_service_app("customers", settings, title="Customers", blueprints=[blp, audit_blp],
                                   runtime_obj=runtime,
                                   messaging=messaging)
    return app
