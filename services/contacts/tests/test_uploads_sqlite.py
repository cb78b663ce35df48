"""The embedded default (SQLite, what `make run` uses): an upload whose process died is not left
"processing" forever, though SQLite imports cannot beat a heartbeat while they write."""

import datetime as dt

from services.contacts.models import FAILED, PROCESSING, ContactUpload
from services.contacts.uploads.records import get_upload
from shared.db import make_engine, make_session_factory, unit_of_work
from shared.migrations import upgrade


def test_an_interrupted_sqlite_import_shows_failed_after_the_stale_limit(tmp_path):
    url = f"sqlite:///{tmp_path / 'contacts.db'}"
    upgrade("contacts", url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = dt.datetime.now(dt.UTC)
    with unit_of_work(sessions) as session:
        recent = ContactUpload(filename="big.csv", status=PROCESSING, heartbeat_at=now - dt.timedelta(minutes=5))
        lost = ContactUpload(filename="lost.csv", status=PROCESSING, heartbeat_at=now - dt.timedelta(minutes=31))
        session.add_all([recent, lost])
    with unit_of_work(sessions) as session:
        assert get_upload(session, recent.id).status == PROCESSING  # may still be importing
        interrupted = get_upload(session, lost.id)
        assert interrupted.status == FAILED and "interrupted" in interrupted.failure_reason
    engine.dispose()
