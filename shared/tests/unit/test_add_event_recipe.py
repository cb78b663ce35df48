"""The "Add an event type" recipe of docs/HOW-A-SERVICE-IS-BUILT.md, followed step by step.

A throw-away type (``recipe.tested``) goes through every step in a temporary schema folder and
registry (the real contract files are not touched) and must round-trip: class -> ``add_event``
-> JSON Schema validation -> loaded back as the same typed event by a consumer's registry. The
last test checks that the document's numbered steps are exactly the ones done here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import MetaData, select
from sqlalchemy.orm import Session

from shared import asyncapi, envelope, events
from shared.config import REPO_ROOT
from shared.consumer import ConsumerRunner, Handler
from shared.db import make_engine, make_session_factory, unit_of_work
from shared.envelope import InvalidEvent, parse_event
from shared.events import Event, EventContext, Id, Phone
from shared.messaging import MessagingTables
from shared.testing import DEFAULT_AMQP, make_settings

RECIPE = REPO_ROOT / "docs" / "HOW-A-SERVICE-IS-BUILT.md"
TYPE = "recipe.tested"

# What each numbered step of the recipe has this test touch (the document must name it there).
TOUCHED = {
    1: {"shared/event_schemas/<type>.json", "SCHEMA_DIR"},
    2: {"shared/events.py", "Event", "TYPE", "subject()"},
    3: {"EVENT_TYPES", "load_event"},
    4: {"add_event(session, TheEvent(...))"},
    5: {"(session, event, context)", "HANDLERS", "ConsumerRunner"},
    6: {"Flow", "FLOWS", "shared/asyncapi.py"},
}

# Step 1: the JSON Schema of the type's data.
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "recipe.tested data",
    "type": "object",
    "additionalProperties": False,
    "required": ["thing_id", "phone", "amount", "tested_at"],
    "properties": {
        "thing_id": {"type": ["integer", "string"]},
        "phone": {"type": "string", "pattern": "^\\+[1-9][0-9]{6,14}$"},
        "amount": {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$"},
        "tested_at": {"type": "string", "format": "date-time"},
        "note": {"type": ["string", "null"]},
    },
}


# Step 2: the typed class (here, in place of shared/events.py).
@dataclass(frozen=True)
class RecipeTested(Event):
    """A throw-away event type that exists only in this test."""

    TYPE: ClassVar[str] = TYPE

    thing_id: Id
    phone: Phone
    amount: Decimal
    tested_at: dt.datetime
    note: str | None = None

    def subject(self) -> str:
        return f"things/{self.thing_id}"


@pytest.fixture
def schema_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Step 1 in a copy of the contract folder; validators cached from it are dropped afterwards."""
    folder = tmp_path / "event_schemas"
    shutil.copytree(envelope.SCHEMA_DIR, folder)
    (folder / f"{TYPE}.json").write_text(json.dumps(SCHEMA))
    monkeypatch.setattr(envelope, "SCHEMA_DIR", folder)
    envelope._validator.cache_clear()
    yield folder
    envelope._validator.cache_clear()


@pytest.fixture
def registered(schema_dir: Path, monkeypatch: pytest.MonkeyPatch) -> type[RecipeTested]:
    """Step 3 in the registry, undone after the test."""
    monkeypatch.setitem(events.EVENT_TYPES, TYPE, RecipeTested)
    return RecipeTested


EXAMPLE = RecipeTested(
    thing_id=7, phone="+919876543210", amount=Decimal("12.50"), tested_at=dt.datetime(2026, 2, 20, 4, 30, tzinfo=dt.UTC)
)


def test_the_new_type_round_trips_from_publisher_to_consumer(registered, tmp_path):
    event = replace(EXAMPLE, note="first")

    # Step 4: the publisher writes it to its outbox in the use case's transaction.
    tables = MessagingTables(MetaData(), source="/services/recipe")
    engine = make_engine(f"sqlite:///{tmp_path / 'recipe.db'}")
    tables.outbox.metadata.create_all(engine)
    session_factory = make_session_factory(engine)
    with unit_of_work(session_factory) as session:
        written = tables.add_event(session, event)
    with unit_of_work(session_factory) as session:
        payload = session.execute(select(tables.outbox.c.payload)).scalar_one()
    assert written["type"] == TYPE and written["subject"] == "things/7"

    # What the broker delivers is checked against the schema of step 1 and loads as the class.
    received = parse_event(payload)
    assert received["data"] == {
        "thing_id": 7,
        "phone": "+919876543210",
        "amount": "12.50",
        "tested_at": "2026-02-20T04:30:00Z",
        "note": "first",
    }
    assert events.load_event(received) == event

    # Step 5: a consumer's registry names a handler; the runner hands it the typed event, once.
    handled: list[tuple[RecipeTested, EventContext]] = []

    def on_recipe_tested(session: Session, tested_event: RecipeTested, context: EventContext) -> None:
        handled.append((tested_event, context))

    handlers: dict[str, Handler] = {TYPE: on_recipe_tested}
    runner = ConsumerRunner(
        make_settings("recipe", str(engine.url), DEFAULT_AMQP), session_factory, tables, "recipe", handlers
    )
    assert runner.handle(received) is True
    assert runner.handle(received) is False  # the inbox drops the redelivery
    assert [(e, c.source, c.event_id) for e, c in handled] == [(event, "/services/recipe", written["id"])]
    engine.dispose()


def test_the_schema_refuses_what_the_class_would_let_through(registered, tmp_path):
    tables = MessagingTables(MetaData(), source="/services/recipe")
    engine = make_engine(f"sqlite:///{tmp_path / 'recipe.db'}")
    tables.outbox.metadata.create_all(engine)
    with pytest.raises(InvalidEvent, match="phone"), unit_of_work(make_session_factory(engine)) as session:
        tables.add_event(session, replace(EXAMPLE, phone="98765 43210"))  # not E.164: never reaches the outbox
    with pytest.raises(InvalidEvent, match=r"recipe\.tested data invalid at amount"):
        RecipeTested.load({**EXAMPLE.to_data(), "amount": "12.5"})
    engine.dispose()


def test_without_step_3_nothing_loads_it_and_no_consumer_may_register_it(schema_dir):
    envelope_of_type = {"specversion": "1.0", "type": TYPE, "data": EXAMPLE.to_data()}
    with pytest.raises(InvalidEvent, match="unknown event type"):
        events.load_event(envelope_of_type)
    with pytest.raises(ValueError, match="the contract does not know"):
        ConsumerRunner(
            make_settings("recipe", "sqlite://", DEFAULT_AMQP),
            make_session_factory(make_engine("sqlite://")),
            MessagingTables(MetaData(), source="/services/recipe"),
            "recipe",
            {TYPE: lambda *_: None},
        )


def test_step_6_puts_it_in_the_asyncapi_document(registered, monkeypatch):
    with pytest.raises(RuntimeError, match=TYPE):  # registered without a flow: refused
        asyncapi.asyncapi_document()
    monkeypatch.setattr(asyncapi, "FLOWS", (*asyncapi.FLOWS, asyncapi.Flow(RecipeTested, "billing", ("reporting",))))
    document = asyncapi.asyncapi_document()
    assert TYPE in document["channels"]
    assert "reporting.receives.recipe.tested" in document["operations"]


def recipe_steps() -> dict[int, str]:
    """The numbered steps under the document's "Add an event type" heading."""
    text = RECIPE.read_text()
    section = text.split("## Add an event type", 1)[1].split("\n## ", 1)[0]
    return {int(number): step for number, step in re.findall(r"^(\d+)\. (.+)$", section, re.M)}


def test_the_document_lists_exactly_the_steps_this_test_follows():
    steps = recipe_steps()
    assert sorted(steps) == sorted(TOUCHED)
    for number, names in TOUCHED.items():
        named = set(re.findall(r"`([^`]+)`", steps[number]))
        assert names <= named, f"step {number} does not name {sorted(names - named)}"
    assert "shared/tests/unit/test_add_event_recipe.py" in RECIPE.read_text()
