"""The embedded default (SQLite, what `make run` uses): an upload whose process died is not left
"processing" forever, though SQLite imports cannot beat a heartbeat while they write."""
import datetime as dt

from shared.db import make_engine, make_session_factory, unit_of_work
from shared.migrations import upgrade
from services.contacts import uploads
from services.contacts.models import ContactUpload


def test_an_interrupted_sqlite_import_shows_failed_after_the_stale_limit(tmp_path):
    url = f"sqlite:///{tmp_path / 'contacts.db'}"
    upgrade("contacts", url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = dt.datetime.now(dt.timezone.utc)
    with unit_of_work(sessions) as session:
        recent = ContactUpload(filename="big.csv", status=uploads.PROCESSING, heartbeat_at=now - dt.timedelta(minutes=5))
        lost = ContactUpload(filename="lost.csv", status=uploads.PROCESSING, heartbeat_at=now - dt.timedelta(minutes=31))
        session.add_all([recent, lost])
    with unit_of_work(sessions) as session:
        assert uploads.get_upload(session, recent.id).status == uploads.PROCESSING  # may still be importing
        interrupted = uploads.get_upload(session, lost.id)
        assert interrupted.status == uploads.FAILED and "interrupted" in interrupted.failure_reason
    engine.dispose()
