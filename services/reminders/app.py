"""Reminders' app factory."""
from __future__ import annotations

import datetime as dt
from typing import Callable

from shared.config import load_settings
from shared.web import create_service_app

from .models import messaging

from .api import blp


def create_app(settings=None, runtime=None, clock: Callable[[], dt.datetime] | None = None):
    """The reminders API; tests pass their own settings, runtime and clock (aware UTC "now")."""
    settings = settings or load_settings("reminders")
    app, _api = create_service_app("reminders", settings, title="Refill reminders", blueprints=[blp],
                                   runtime_obj=runtime,
                                   messaging=messaging, clock=clock)
    return app
