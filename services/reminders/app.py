"""Reminders' app factory."""

from __future__ import annotations

from flask import Flask

from shared.clock import Clock
from shared.config import Settings, load_settings
from shared.dead_letters_api import dead_letters_blueprint
from shared.runtime import Runtime
from shared.web import create_service_app

from .api import blp
from .models import messaging


def create_app(settings: Settings | None = None, runtime: Runtime | None = None, clock: Clock | None = None) -> Flask:
    """The reminders API; tests pass their own settings, runtime and clock (aware UTC "now")."""
    settings = settings or load_settings("reminders")
    app, _api = create_service_app(
        "reminders",
        settings,
        title="Refill reminders",
        runtime_obj=runtime,
        blueprints=[blp, dead_letters_blueprint(messaging)],
        clock=clock,
        messaging=messaging,
    )
    return app
