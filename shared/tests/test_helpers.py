"""The small helpers every service shares: instants, dialect checks, wa.me links, ids, categories."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import marshmallow as ma
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.categories import CATEGORIES, CATEGORY_LABELS, CONTACT_SHEET
from shared.clock import as_utc, utcnow
from shared.db import UTCDateTime, dialect_insert, is_postgres, is_sqlite, make_engine, make_session_factory
from shared.fields import ExternalId
from shared.phones import whatsapp_link
from shared.testing import DatabaseFactory

KOLKATA = ZoneInfo("Asia/Kolkata")
metadata = MetaData()
instants = Table("instants", metadata, Column("id", Integer, primary_key=True), Column("at", UTCDateTime()))


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path, databases: DatabaseFactory) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'instants.db'}" if request.param == "sqlite" else databases.create("instants")
    engine = make_engine(url)
    metadata.create_all(engine)
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


# -- UTCDateTime ----------------------------------------------------------------------------
def test_an_instant_comes_back_aware_utc_from_every_database(engine: Engine) -> None:
    in_kolkata = dt.datetime(2026, 3, 1, 9, 15, 30, 123456, tzinfo=KOLKATA)
    with engine.begin() as conn:
        conn.execute(insert(instants).values(id=1, at=in_kolkata))
        stored = conn.scalar(select(instants.c.at))
    assert stored == in_kolkata and stored.tzinfo == dt.UTC
    assert stored == dt.datetime(2026, 3, 1, 3, 45, 30, 123456, tzinfo=dt.UTC)


def test_instants_compare_and_aggregate_as_instants(engine: Engine) -> None:
    early = dt.datetime(2026, 3, 1, 23, 0, tzinfo=dt.UTC)  # 04:30 on the 2nd in Kolkata
    late = dt.datetime(2026, 3, 2, 1, 0, tzinfo=KOLKATA)  # 19:30 UTC on the 1st: earlier than ``early``
    with engine.begin() as conn:
        conn.execute(insert(instants), [{"id": 1, "at": early}, {"id": 2, "at": late}])
        # Stored in UTC, so the order is the instants' order, not their local wall times'.
        assert conn.scalars(select(instants.c.id).order_by(instants.c.at)).all() == [2, 1]
        assert conn.scalars(select(instants.c.id).where(instants.c.at > late)).all() == [1]
        assert conn.scalar(select(func.min(instants.c.at))) == late.astimezone(dt.UTC)


def test_a_naive_instant_is_refused(engine: Engine) -> None:
    with engine.begin() as conn, pytest.raises(StatementError, match="naive datetime"):
        conn.execute(insert(instants).values(id=1, at=dt.datetime(2026, 3, 1, 9, 0)))


class _Base(DeclarativeBase):
    pass


class _Visit(_Base):
    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


def test_mapped_objects_read_back_aware_utc(engine: Engine) -> None:
    _Base.metadata.create_all(engine)
    try:
        with make_session_factory(engine)() as session:
            session.add_all([_Visit(id=1, at=dt.datetime(2026, 3, 1, 9, 0, tzinfo=KOLKATA)), _Visit(id=2)])
            session.commit()
            session.expire_all()  # read from the database, not what was assigned
            first, second = session.get_one(_Visit, 1), session.get_one(_Visit, 2)
            assert first.at == dt.datetime(2026, 3, 1, 3, 30, tzinfo=dt.UTC)
            assert first.at.tzinfo == second.at.tzinfo == dt.UTC
    finally:
        _Base.metadata.drop_all(engine)


@given(
    st.datetimes(
        min_value=dt.datetime(1970, 1, 2),
        max_value=dt.datetime(9998, 12, 31),
        timezones=st.sampled_from([dt.UTC, KOLKATA, ZoneInfo("America/St_Johns")]),
    )
)
def test_the_bound_value_is_the_same_instant_in_utc(instant: dt.datetime) -> None:
    for dialect in (make_engine("sqlite://").dialect, make_engine("postgresql+psycopg://x@localhost/x").dialect):
        bound = UTCDateTime().process_bind_param(instant, dialect)
        assert bound is not None
        back = UTCDateTime().process_result_value(bound, dialect)
        # astimezone, not ==: PEP 495 makes a time in a DST fold unequal to every other zone's.
        assert back == instant.astimezone(dt.UTC) and back is not None
        assert back.utcoffset() == dt.timedelta(0)


def test_as_utc_refuses_naive_and_converts_aware() -> None:
    with pytest.raises(ValueError, match="naive"):
        as_utc(dt.datetime(2026, 1, 1))
    assert as_utc(dt.datetime(2026, 1, 1, 5, 30, tzinfo=KOLKATA)) == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert utcnow().tzinfo == dt.UTC


# -- dialect checks -------------------------------------------------------------------------
def test_dialect_checks_take_a_session_a_connection_an_engine_or_a_dialect(engine: Engine) -> None:
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as conn, make_session_factory(engine)() as session:
        for bind in (engine, conn, session, engine.dialect):
            assert is_postgres(bind) is postgres and is_sqlite(bind) is not postgres
        assert dialect_insert(session).__module__.split(".")[-2] == ("postgresql" if postgres else "sqlite")


def test_no_inline_dialect_checks_remain() -> None:
    root = Path(__file__).resolve().parents[2]
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("shared", "services", "gateway")
        for path in (root / folder).rglob("*.py")
        if "migrations/versions" not in path.as_posix() and path.name != "test_helpers.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"dialect\.name\s*[=!]=", line)
    ]
    assert offenders == []


# -- wa.me links ----------------------------------------------------------------------------
@given(st.text(max_size=200))
def test_a_whatsapp_link_carries_the_message_as_one_parameter(message: str) -> None:
    url = whatsapp_link("+919876543210", message)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "wa.me", "/919876543210")
    assert parse_qs(parts.query, keep_blank_values=True) == {"text": [message]}
    assert " " not in url and "#" not in url


# -- external ids ---------------------------------------------------------------------------
class _Bill(ma.Schema):
    bill_id = ExternalId(allow_none=True)


@pytest.mark.parametrize("sent, kept", [(42, "42"), ("POS-0007", "POS-0007"), (" 007 ", "007"), (None, None)])
def test_an_external_id_is_kept_as_text_and_sent_back_as_it_came(sent: object, kept: str | None) -> None:
    loaded = _Bill().load({"bill_id": sent})
    assert loaded == {"bill_id": kept}
    assert _Bill().dump(loaded) == {"bill_id": sent.strip() if isinstance(sent, str) else sent}


@pytest.mark.parametrize("bad", [0, -3, True, "", "   ", "x" * 65, 1.5, ["1"]])
def test_an_external_id_refuses_what_is_not_an_id(bad: object) -> None:
    with pytest.raises(ma.ValidationError):
        _Bill().load({"bill_id": bad})


# -- categories -----------------------------------------------------------------------------
def test_the_categories_are_the_user_guides_in_its_order() -> None:
    assert CATEGORIES == ("contact_sheet", "first_time_prescription", "regular_branded", "generic_informed")
    assert CONTACT_SHEET in CATEGORIES and list(CATEGORY_LABELS) == list(CATEGORIES)
    assert list(CATEGORY_LABELS.values()) == [
        "Contact Sheet",
        "First Time Prescription",
        "Regular Branded",
        "Generic Informed",
    ]
