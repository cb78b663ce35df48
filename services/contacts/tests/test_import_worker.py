"""Large uploads are imported by the importer process (``python -m services.contacts.worker import``),
on PostgreSQL and on the embedded SQLite: one importer per job, a killed importer's job taken
over, a failed upload retried with its key, no temp file left, progress visible, nothing of an
unfinished import visible, and (SQLite) readers never waiting behind the importer's writes."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from services.contacts.app import create_app
from services.contacts.models import (
    Base,
    ContactImportJob,
    ContactUploadFile,
    StaffMember,
    messaging,
)
from services.contacts.settings import ContactsSettings
from services.contacts.uploads import background, jobs, writers
from services.contacts.uploads.background import ImportWorker
from shared.clock import utcnow
from shared.migrations import upgrade
from shared.runtime import Runtime
from shared.testing import auth_headers, eventually, make_settings, truncate_all

ADMIN = auth_headers("admin", 1)
UPLOADS = "/api/v1/contacts/uploads"
CONTACTS = "/api/v1/contacts"
REPO = Path(__file__).resolve().parents[3]


def big_csv(rows: int, first: int = 100_000_000) -> bytes:
    lines = ["phone,name"] + [f"9{n:09d},Person {n}" for n in range(first, first + rows)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path, contacts_db, amqp_url):
    """A runtime (and its settings) on an empty contacts database of either kind, three staff."""
    yield from _backend(request.param, tmp_path, contacts_db, amqp_url)


@pytest.fixture
def sqlite_backend(tmp_path, amqp_url):
    yield from _backend("sqlite", tmp_path, None, amqp_url)


def _backend(kind, tmp_path, contacts_db, amqp_url):
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'contacts.db'}"
        upgrade("contacts", url)
    else:
        url = contacts_db
    work = tmp_path / "work"
    work.mkdir()
    settings = make_settings(
        "contacts",
        url,
        amqp_url,
        cls=ContactsSettings,
        async_upload_bytes=10_000,
        import_lease_seconds=1.5,
        import_poll_seconds=0.05,
        import_work_dir=str(work),
    )
    runtime = Runtime.build(settings)
    truncate_all(runtime.engine, Base.metadata)
    with runtime.session_factory() as session:
        for staff_id in (11, 12, 13):
            session.add(StaffMember(staff_id=staff_id, username=f"u{staff_id}", role="staff", event_time=utcnow()))
        session.commit()
    yield runtime
    runtime.engine.dispose()


def client_for(runtime):
    return create_app(runtime.settings, runtime).test_client()


def post(client, content: bytes, name="big.csv", headers=ADMIN):
    data = {"file": (io.BytesIO(content), name)}
    return client.post(UPLOADS, data=data, headers=headers, content_type="multipart/form-data")


def all_contacts(runtime) -> int:
    with runtime.engine.connect() as connection:
        return connection.scalar(text("SELECT count(*) FROM contact_records"))


def uploaded_events(runtime) -> int:
    with runtime.session_factory() as session:
        return session.scalar(
            select(func.count())
            .where(messaging.outbox.c.event_type == "contacts.uploaded")
            .select_from(messaging.outbox)
        )


def wait_done(client, location, timeout=60):
    return eventually(
        lambda: (s := client.get(location, headers=ADMIN).json)["status"] != "processing" and s, timeout=timeout
    )


@pytest.fixture
def slow_writes(monkeypatch):
    """Each batch written takes a little longer, so an import lasts long enough to watch."""

    def slowed(real):
        def add_contacts(self, contacts):
            time.sleep(0.05)
            return real(self, contacts)

        return add_contacts

    for cls in (writers.InsertWriter, writers.CopyWriter):
        monkeypatch.setattr(cls, "add_contacts", slowed(cls.add_contacts))


def run_loops(*workers):
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in workers]
    for thread in threads:
        thread.start()
    return stop, threads


def test_a_job_is_claimed_by_exactly_one_of_two_importers(backend):
    client = client_for(backend)
    response = post(client, big_csv(2000))
    assert response.status_code == 202, response.json
    barrier = threading.Barrier(2)
    claims = []

    def claim(owner):
        barrier.wait()
        claims.append(jobs.claim(backend.session_factory, owner, 30))

    threads = [threading.Thread(target=claim, args=(f"importer-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    taken = [c for c in claims if c is not None]
    assert len(claims) == 2 and len(taken) == 1 and taken[0].upload_id == response.json["id"]


def test_two_importer_loops_import_every_upload_once(backend, monkeypatch):
    client = client_for(backend)
    ids = [post(client, big_csv(1500, first=100_000_000 + n * 1000)).json["id"] for n in range(4)]
    runs = []
    real_run_job = background.run_job

    def counted(sessions, settings, job, **kwargs):
        runs.append((job.owner, job.upload_id))
        return real_run_job(sessions, settings, job, **kwargs)

    monkeypatch.setattr(background, "run_job", counted)
    stop, threads = run_loops(
        ImportWorker(backend.settings, backend.session_factory, batch_rows=500),
        ImportWorker(backend.settings, backend.session_factory, batch_rows=500),
    )
    try:
        finals = [wait_done(client, f"{UPLOADS}/{upload_id}") for upload_id in ids]
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert [f["status"] for f in finals] == ["completed"] * 4
    assert sorted(upload_id for _, upload_id in runs) == ids  # each taken once
    assert sum(f["imported"] for f in finals) == 1500 + 3 * 1000  # the lists overlap by 500
    assert all_contacts(backend) == 4500 and uploaded_events(backend) == 4


IMPORTER_CHILD = """
import sys, threading, time
from services.contacts.settings import ContactsSettings
from services.contacts.uploads import writers
from services.contacts.uploads.background import ImportWorker
from shared.runtime import Runtime
from shared.testing import make_settings

url, work = sys.argv[1], sys.argv[2]
for cls in (writers.InsertWriter, writers.CopyWriter):  # slow enough to be killed mid-import
    real = cls.add_contacts
    cls.add_contacts = lambda self, contacts, real=real: (time.sleep(0.2), real(self, contacts))[1]
settings = make_settings("contacts", url, "amqp://unused", cls=ContactsSettings, import_lease_seconds=1.5,
                         import_poll_seconds=0.05, import_work_dir=work)
ImportWorker(settings, Runtime.build(settings).session_factory, batch_rows=500).run(threading.Event())
"""


def test_an_importer_killed_mid_import_is_taken_over_and_the_upload_completes(backend):
    client = client_for(backend)
    response = post(client, big_csv(20_000))
    assert response.status_code == 202
    location = response.headers["Location"]
    child = subprocess.Popen(
        [sys.executable, "-c", IMPORTER_CHILD, backend.settings.database_url, backend.settings.import_work_dir],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        # Mid-import: rows done (SQLite: committed batches; PostgreSQL: its progress connection).
        eventually(lambda: 0 < client.get(location, headers=ADMIN).json["rows_done"] < 20_000, timeout=60)
        assert client.get(location, headers=ADMIN).json["status"] == "processing"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    # What the dead importer wrote is not visible; its temp file is the only thing left behind.
    assert client.get(CONTACTS, headers=ADMIN).json["total"] == 0
    with backend.session_factory() as session:
        assert session.get(ContactImportJob, response.json["id"]).attempts == 1
    stop, threads = run_loops(ImportWorker(backend.settings, backend.session_factory))
    try:
        final = wait_done(client, location)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert final["status"] == "completed", final
    assert final["imported"] == final["rows_done"] == 20_000
    assert all_contacts(backend) == 20_000 and uploaded_events(backend) == 1
    assert client.get(CONTACTS, headers=ADMIN).json["total"] == 20_000


def test_a_job_whose_importers_keep_dying_fails_with_a_reason(backend):
    client = client_for(backend)
    upload_id = post(client, big_csv(1000)).json["id"]
    with backend.session_factory() as session:  # taken over MAX_ATTEMPTS times already
        job = session.get(ContactImportJob, upload_id)
        job.state, job.attempts, job.lease_owner, job.lease_expires_at = "running", jobs.MAX_ATTEMPTS, "dead", utcnow()
        session.commit()
    assert ImportWorker(backend.settings, backend.session_factory).run_once()
    final = client.get(f"{UPLOADS}/{upload_id}", headers=ADMIN).json
    assert final["status"] == "failed" and "interrupted" in final["failure_reason"]
    assert all_contacts(backend) == 0


def test_a_retry_with_the_same_key_after_a_failure_imports_again(backend, monkeypatch):
    client = client_for(backend)
    headers = {**ADMIN, "Idempotency-Key": "list-7"}
    real = writers.InsertWriter.add_contacts, writers.CopyWriter.add_contacts

    def failing(self, contacts):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writers.InsertWriter, "add_contacts", failing)
    monkeypatch.setattr(writers.CopyWriter, "add_contacts", failing)
    first = post(client, big_csv(3000), headers=headers)
    assert first.status_code == 202
    worker = ImportWorker(backend.settings, backend.session_factory, batch_rows=1000)
    assert worker.run_once()
    failed = client.get(first.headers["Location"], headers=ADMIN).json
    assert failed["status"] == "failed" and failed["failure_reason"] == "the import failed (RuntimeError)"
    assert all_contacts(backend) == 0

    monkeypatch.setattr(writers.InsertWriter, "add_contacts", real[0])
    monkeypatch.setattr(writers.CopyWriter, "add_contacts", real[1])
    retry = post(client, big_csv(3000), headers=headers)
    assert retry.status_code == 202 and retry.json["id"] != first.json["id"]
    assert worker.run_once()
    assert client.get(retry.headers["Location"], headers=ADMIN).json["status"] == "completed"
    assert all_contacts(backend) == 3000
    again = post(client, big_csv(3000), headers=headers)  # and now the key replays the good one
    assert again.status_code == 200 and again.json["id"] == retry.json["id"]


@pytest.mark.parametrize("fails", [False, True])
def test_no_temp_file_or_stored_file_is_left(backend, monkeypatch, fails):
    import tempfile

    temp_before = set(os.listdir(tempfile.gettempdir()))
    if fails:
        monkeypatch.setattr(writers.InsertWriter, "add_contacts", lambda self, c: 1 / 0)
        monkeypatch.setattr(writers.CopyWriter, "add_contacts", lambda self, c: 1 / 0)
    client = client_for(backend)
    response = post(client, big_csv(3000))
    assert response.status_code == 202
    seen_in_work_dir = []
    real_fetch = jobs.fetch_file

    def fetch(*args):
        path = real_fetch(*args)
        seen_in_work_dir.append(os.listdir(backend.settings.import_work_dir))
        return path

    monkeypatch.setattr(jobs, "fetch_file", fetch)
    assert ImportWorker(backend.settings, backend.session_factory).run_once()
    final = client.get(response.headers["Location"], headers=ADMIN).json
    assert final["status"] == ("failed" if fails else "completed")
    assert len(seen_in_work_dir) == 1 and len(seen_in_work_dir[0]) == 1  # the import's own copy...
    assert os.listdir(backend.settings.import_work_dir) == []  # ...removed after
    leftovers = {n for n in set(os.listdir(tempfile.gettempdir())) - temp_before if n.startswith("contact-")}
    assert leftovers == set()  # the request's copy too
    with backend.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(ContactUploadFile)) == 0
        assert session.scalar(select(func.count()).select_from(ContactImportJob)) == 0


def test_progress_is_visible_and_contacts_hidden_while_an_import_runs(backend, slow_writes):
    client = client_for(backend)
    known = post(client, b"phone\n9111111111\n", name="small.csv")
    assert known.status_code == 201
    response = post(client, big_csv(12_000))
    location = response.headers["Location"]
    stop, threads = run_loops(ImportWorker(backend.settings, backend.session_factory, batch_rows=500))
    seen = []
    try:
        while True:
            listed = client.get(CONTACTS, headers=ADMIN).json["total"]  # read before the status:
            status = client.get(location, headers=ADMIN).json  # still processing => listed mid-import
            if status["status"] != "processing":
                break
            seen.append((status["rows_done"], listed))
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert status["status"] == "completed" and status["imported"] == 12_000
    midway = [rows for rows, _ in seen if 0 < rows < 12_000]
    assert midway and midway == sorted(midway), seen  # progress moves forward while it runs
    assert {listed for _, listed in seen} == {1}  # only the small list's contact, never a partial import
    assert client.get(CONTACTS, headers=ADMIN).json["total"] == 12_001


def test_sqlite_reads_never_wait_behind_a_writer(sqlite_backend, slow_writes):
    backend = sqlite_backend
    client = client_for(backend)
    assert post(client, b"phone\n9111111111\n", name="small.csv").status_code == 201
    # A writer holding SQLite's write lock (another process's transaction) for 4 s.
    holder = backend.engine.connect()
    holder.exec_driver_sql("UPDATE contact_records SET name = 'x'")  # BEGIN IMMEDIATE: the write lock
    try:
        for path in (CONTACTS, UPLOADS, f"{CONTACTS}/follow-ups"):
            start = time.perf_counter()
            answer = client.get(path, headers=ADMIN)
            assert answer.status_code == 200 and time.perf_counter() - start < 2, (path, answer.status_code)
    finally:
        holder.rollback()
        holder.close()
    # And while a real import runs: every GET answers, in under 2 s.
    location = post(client, big_csv(30_000)).headers["Location"]
    stop, threads = run_loops(ImportWorker(backend.settings, backend.session_factory, batch_rows=2000))
    timings, statuses = [], []

    def reader(own):
        while not stop.is_set():
            for path in (CONTACTS, location, f"{CONTACTS}?q=Person"):
                start = time.perf_counter()
                statuses.append(own.get(path, headers=ADMIN).status_code)
                timings.append(time.perf_counter() - start)

    # Apps are built here, one after the other: building Flask apps in several threads at once races
    # on the shared blueprints' registration.
    readers = [threading.Thread(target=reader, args=(client_for(backend),), daemon=True) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        final = wait_done(client, location)
    finally:
        stop.set()
        for thread in threads + readers:
            thread.join(30)
    assert final["status"] == "completed"
    assert timings and set(statuses) == {200} and max(timings) < 2, (max(timings), set(statuses))
    print(f"\n{len(timings)} GETs during the import, slowest {max(timings) * 1000:.0f} ms")
