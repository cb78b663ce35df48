"""Every service's migrations build exactly the schema its models declare, on both databases.

Autogenerate against a freshly migrated database must find nothing to add: a model changed
without a migration (or a column type such as ``UTCDateTime`` whose DDL drifted) fails here.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata, render_python_code
from alembic.migration import MigrationContext
from alembic.operations.ops import UpgradeOps
from sqlalchemy import MetaData

from shared.db import make_engine
from shared.migrations import SERVICES, render_item, upgrade
from shared.testing import DatabaseFactory


def _metadata(service: str) -> MetaData:
    module = importlib.import_module("gateway.models" if service == "gateway" else f"services.{service}.models")
    return module.Base.metadata  # type: ignore[no-any-return]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("service", SERVICES)
def test_autogenerate_finds_no_difference(
    service: str, backend: str, tmp_path: Path, databases: DatabaseFactory
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / f'{service}.db'}"
        upgrade(service, url)
    else:
        url = databases.create(f"autogen_{service}", service)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, _metadata(service)) == []
    finally:
        engine.dispose()


def test_a_new_instant_column_is_written_as_plain_sqlalchemy() -> None:
    """Migrations must not import ``shared.db``: ``UTCDateTime`` renders as its DDL type."""
    from alembic.operations import ops
    from sqlalchemy import Column

    from shared.db import UTCDateTime

    upgrade_ops = UpgradeOps(ops=[ops.AddColumnOp("t", Column("at", UTCDateTime(), nullable=True))])
    code = render_python_code(upgrade_ops, render_item=render_item)
    assert "sa.DateTime(timezone=True)" in code and "UTCDateTime" not in code
