"""What one process of a service holds: its settings, database engine and session factory.

No Flask here: the HTTP app (``shared.web``) and the background loops (``shared.process``)
both build a ``Runtime``, and a worker must not import a web framework to get one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .config import Settings
from .db import make_engine, make_session_factory


@dataclass(frozen=True)
class Runtime:
    """A process's settings, engine and session factory (built once in the composition root)."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        """Connect lazily to ``settings.database_url`` (the engine opens connections on first use)."""
        engine = make_engine(settings.database_url)
        return cls(settings, engine, make_session_factory(engine))

    def with_settings(self, settings: Settings) -> Runtime:
        """The same engine and sessions under other settings (tests vary a limit per app)."""
        return self if settings is self.settings else replace(self, settings=settings)
