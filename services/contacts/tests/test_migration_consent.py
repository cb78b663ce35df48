"""Migration 0005 adds contacts' copy of consent and the cause of a follow-up, keeping every
follow-up, on PostgreSQL and on the embedded SQLite; its downgrade undoes it."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from services.contacts.models import FollowUp
from shared.migrations import alembic_config

NOW = dt.datetime(2030, 1, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request, databases, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'contacts.db'}"
    return databases.create("contacts_migration_0005")  # empty: the test migrates it step by step


def test_consent_copies_and_follow_up_causes_come_and_go(database_url):
    config = alembic_config("contacts", database_url)
    command.upgrade(config, "0004")
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            contact_id = connection.execute(
                text(
                    "INSERT INTO contact_records (phone, status, whatsapp_status, created_at, updated_at) "
                    "VALUES ('+919876543210', 'pending', 'unknown', :now, :now) RETURNING id"
                ),
                {"now": NOW},
            ).scalar_one()
            connection.execute(
                text("INSERT INTO contact_follow_ups (contact_id, due_at, note, created_at) VALUES (:c, :d, 'x', :d)"),
                {"c": contact_id, "d": NOW},
            )

        command.upgrade(config, "0005")
        assert "consent_copies" in inspect(engine).get_table_names()
        assert {i["name"] for i in inspect(engine).get_indexes("contact_follow_ups")} == {
            index.name for index in FollowUp.__table__.indexes
        }
        insert = text(
            "INSERT INTO contact_follow_ups (contact_id, due_at, note, cause, created_at) "
            "VALUES (:c, :d, 'yellow', :cause, :d)"
        )
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO consent_copies (phone, whatsapp, call, sms, changed_at) "
                    "VALUES ('+919876543210', 'declined', 'granted', 'unknown', :now)"
                ),
                {"now": NOW},
            )
            connection.execute(insert, {"c": contact_id, "d": NOW, "cause": "yellow:bill:/pos:1"})
            connection.execute(insert, {"c": contact_id, "d": NOW, "cause": None})  # many without a cause
            assert connection.scalar(text("SELECT count(*) FROM contact_follow_ups")) == 3
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(insert, {"c": contact_id, "d": NOW, "cause": "yellow:bill:/pos:1"})

        command.downgrade(config, "0004")
        assert "consent_copies" not in inspect(engine).get_table_names()
        columns = {c["name"] for c in inspect(engine).get_columns("contact_follow_ups")}
        assert "cause" not in columns
        assert {i["name"] for i in inspect(engine).get_indexes("contact_follow_ups")} == {
            "ix_contact_follow_ups_contact_id",
            "ix_contact_follow_ups_open_due",
        }
        with engine.begin() as connection:
            assert connection.scalar(text("SELECT count(*) FROM contact_follow_ups")) == 3
    finally:
        engine.dispose()
