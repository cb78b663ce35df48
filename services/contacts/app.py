"""Contacts' app factory."""
from __future__ import annotations

from shared.config import load_settings
from shared.web import create_service_app

from .api import blp
from .models import messaging
from .settings import with_contacts_settings


def create_app(settings=None, runtime=None):
    """The contacts API; tests pass their own settings and runtime."""
    settings = with_contacts_settings(settings or load_settings("contacts"))
    if runtime is not None and runtime.settings is not settings:
        runtime.settings = settings
    app, _api = create_service_app("contacts", settings, title="Contacts", blueprints=[blp], runtime_obj=runtime,
                                   messaging=messaging)
    return app
