"""Migration 0003 renames contacts' follow-ups (``contact_reminders`` -> ``contact_follow_ups``)
without losing a row, on PostgreSQL and on the embedded SQLite, and its downgrade undoes it."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from services.contacts.models import FollowUp
from shared.db import is_postgres
from shared.migrations import alembic_config

NOW = dt.datetime(2030, 1, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request, databases, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'contacts.db'}"
    return databases.create("contacts_migration")  # empty: the test migrates it step by step


def _add_follow_up(connection, table: str, contact_id: int, note: str) -> None:
    connection.execute(
        text(f"INSERT INTO {table} (contact_id, due_at, note, created_at) VALUES (:contact, :due, :note, :now)"),
        {"contact": contact_id, "due": NOW, "note": note, "now": NOW},
    )


def test_follow_ups_are_renamed_with_their_rows_and_back(database_url):
    config = alembic_config("contacts", database_url)
    command.upgrade(config, "0002")
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
            _add_follow_up(connection, "contact_reminders", contact_id, "call back")

        command.upgrade(config, "head")
        tables = set(inspect(engine).get_table_names())
        assert "contact_follow_ups" in tables and "contact_reminders" not in tables
        indexes = {index["name"] for index in inspect(engine).get_indexes("contact_follow_ups")}
        assert indexes == {index.name for index in FollowUp.__table__.indexes}  # what a fresh database has
        if is_postgres(engine):
            assert inspect(engine).get_pk_constraint("contact_follow_ups")["name"] == "contact_follow_ups_pkey"
            assert {fk["name"] for fk in inspect(engine).get_foreign_keys("contact_follow_ups")} == {
                "contact_follow_ups_contact_id_fkey",
                "contact_follow_ups_interaction_id_fkey",
            }
            with engine.connect() as connection:
                assert (
                    connection.scalar(text("SELECT pg_get_serial_sequence('contact_follow_ups', 'id')"))
                    == "public.contact_follow_ups_id_seq"
                )
        with engine.begin() as connection:
            _add_follow_up(connection, "contact_follow_ups", contact_id, "visit")  # ids still come by themselves
            notes = connection.execute(text("SELECT id, note FROM contact_follow_ups ORDER BY id")).all()
        assert [note for _, note in notes] == ["call back", "visit"] and notes[0][0] < notes[1][0]

        command.downgrade(config, "0002")
        tables = set(inspect(engine).get_table_names())
        assert "contact_reminders" in tables and "contact_follow_ups" not in tables
        assert {i["name"] for i in inspect(engine).get_indexes("contact_reminders")} == {
            "ix_contact_reminders_contact_id",
            "ix_contact_reminders_open_due",
        }
        with engine.begin() as connection:
            assert connection.execute(text("SELECT count(*) FROM contact_reminders")).scalar_one() == 2
    finally:
        engine.dispose()
