"""Uploads against real PostgreSQL: the sample lists, assignment, error reports, bad files, large files."""

import csv
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from services.contacts.importing import neutralize_for_export
from services.contacts.models import ContactRecord, messaging
from shared.events import ContactsUploaded
from shared.testing import auth_headers, eventually

from .conftest import STAFF_IDS, staff_event

FIXTURES = Path(__file__).parent / "fixtures" / "contact-lists"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
ADMIN = auth_headers("admin", 1)
STAFF = auth_headers("staff", 11)
UPLOADS = "/api/v1/contacts/uploads"


def upload(client, name, content, headers=ADMIN, **form):
    data = {"file": (io.BytesIO(content), name), **form}
    return client.post(UPLOADS, data=data, headers=headers, content_type="multipart/form-data")


def contact_phones(runtime):
    with runtime.session_factory() as session:
        return set(session.scalars(select(ContactRecord.phone)))


def outbox_events(runtime, event_type):
    with runtime.session_factory() as session:
        rows = session.execute(
            select(messaging.outbox.c.payload)
            .where(messaging.outbox.c.event_type == event_type)
            .order_by(messaging.outbox.c.id)
        ).scalars()
        return [json.loads(row) for row in rows]


@pytest.mark.parametrize("filename", ["contacts.csv", "contacts.xlsx", "contacts.xls"])
def test_sample_list_imports_exactly_the_expected_phones(client, runtime, staff, filename):
    response = upload(client, filename, (FIXTURES / filename).read_bytes(), list_name="Diwali leads")
    assert response.status_code == 201, response.json
    body = response.json
    imported, rejected = EXPECTED["imported_phones"], EXPECTED["rejected"]
    assert body["status"] == "completed" and body["list_name"] == "Diwali leads"
    assert body["total_rows"] == body["rows_done"] == EXPECTED["rows"]
    assert body["imported"] == len(imported) and body["invalid"] == len(rejected)
    assert body["duplicates_in_file"] == EXPECTED["rows"] - len(imported) - len(rejected)
    assert body["already_known"] == 0
    assert contact_phones(runtime) == set(imported)
    # spread evenly over the three staff users
    counts = sorted(body["assigned"].values())
    assert sorted(map(int, body["assigned"])) == list(STAFF_IDS)
    assert counts[-1] - counts[0] <= 1 and sum(counts) == len(imported)
    with runtime.session_factory() as session:
        per_staff = dict(
            session.execute(select(ContactRecord.assigned_to, func.count()).group_by(ContactRecord.assigned_to)).all()
        )
        assert {str(k): v for k, v in per_staff.items()} == body["assigned"]
        statuses = set(session.scalars(select(ContactRecord.status)))
        assert statuses == {"pending"}
    # the error report lists exactly the rejected rows
    report = client.get(body["errors_url"], headers=ADMIN)
    assert report.status_code == 200 and report.mimetype == "text/csv"
    lines = list(csv.DictReader(io.StringIO(report.data.decode("utf-8-sig"))))
    assert [(int(r["row"]), r["phone"].strip()) for r in lines] == [
        (r["row"], neutralize_for_export(r["phone"]).strip()) for r in rejected
    ]
    assert all(r["reason"] for r in lines)
    # one summary event
    [event] = outbox_events(runtime, "contacts.uploaded")
    uploaded = ContactsUploaded.load(event)
    assert uploaded.upload_id == body["id"] and uploaded.imported == len(imported)
    assert uploaded.assigned == body["assigned"]
    # uploading it again: every phone already known, nothing new
    again = upload(client, filename, (FIXTURES / filename).read_bytes())
    assert again.status_code == 201
    assert again.json["imported"] == 0 and again.json["already_known"] == len(imported)
    assert again.json["assigned"] == {}
    assert len(contact_phones(runtime)) == len(imported)


def test_error_report_as_xlsx_neutralizes_formulas(client, staff):
    content = b'phone,name\n9876543210,Asha\n=1+2,=HYPERLINK("http://x.invalid")\n@SUM(A1),+danger\n12,-minus\n'
    body = upload(client, "list.csv", content).json
    assert body["imported"] == 1 and body["invalid"] == 3
    report = client.get(f"{UPLOADS}/{body['id']}/errors?format=xlsx", headers=ADMIN)
    assert report.status_code == 200
    assert report.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(report.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["row", "phone", "name", "reason"]
    assert [v[0] for v in values[1:]] == [3, 4, 5]
    assert values[1][1] == "'=1+2" and values[1][2].startswith("'=HYPERLINK")
    assert values[2][1] == "'@SUM(A1)" and values[2][2] == "'+danger" and values[3][2] == "'-minus"
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row[1:3])
    csv_report = client.get(f"{UPLOADS}/{body['id']}/errors", headers=ADMIN).data.decode("utf-8-sig")
    assert "'=1+2" in csv_report and "'+danger" in csv_report
    # stored as typed, neutralized only on export
    with pytest.raises(AssertionError):
        assert "'" in csv_report.splitlines()[0]


def test_unicode_names_round_trip_and_upload_listing(client, staff):
    content = "Mobile Number;Customer Name\n98765 43210;Zoë D'Souza\n+91 91234 56789;प्रिया पटेल\n".encode()
    body = upload(client, "list.csv", content, list_name="Ünïcode").json
    assert body["imported"] == 2
    contacts = client.get("/api/v1/contacts?per_page=10", headers=ADMIN).json["items"]
    assert {c["name"] for c in contacts} == {"Zoë D'Souza", "प्रिया पटेल"}
    assert {c["phone"] for c in contacts} == {"+919876543210", "+919123456789"}
    assert all(c["status"] == "pending" and c["whatsapp_status"] == "unknown" for c in contacts)
    listed = client.get(UPLOADS, headers=ADMIN).json
    assert listed["total"] == 1 and listed["items"][0]["list_name"] == "Ünïcode"
    assert client.get(f"{UPLOADS}/{body['id']}", headers=ADMIN).json["imported"] == 2


def test_assign_to_chosen_staff_and_least_loaded_first(client, runtime, staff):
    first = upload(client, "a.csv", b"phone\n9876543210\n9876543211\n9876543212\n9876543213\n", assign_to="11,12").json
    assert first["assigned"] == {"11": 2, "12": 2}
    # now 13 has no open contacts: it gets the extra one of an odd-sized list
    second = upload(client, "b.csv", b"phone\n9876543220\n9876543221\n9876543222\n9876543223\n9876543224\n").json
    assert second["assigned"] == {"11": 1, "12": 1, "13": 3} or sorted(second["assigned"].values()) == [1, 2, 2]
    counts = second["assigned"]
    assert max(counts.values()) - min(counts.values()) <= 1
    assert counts["13"] == 2  # least loaded first
    bad = upload(client, "c.csv", b"phone\n9876543230\n", assign_to="11,99")
    assert bad.status_code == 422 and "assign_to" in bad.json["errors"]
    assert upload(client, "c.csv", b"phone\n9876543230\n", assign_to="x").status_code == 422
    for not_ascii in ("²", "11,١٢", "1234567890"):  # not ASCII digits (isdigit() says yes), or too long
        refused = upload(client, "c.csv", b"phone\n9876543230\n", assign_to=not_ascii)
        assert refused.status_code == 422 and "assign_to" in refused.json["errors"], not_ascii


def test_no_staff_to_assign_is_422_and_nothing_imported(client, runtime, deliver):
    deliver("staff.created", staff_event(11, active=False), source="/gateway")
    deliver("staff.created", staff_event(1, role="admin"), source="/gateway")
    response = upload(client, "a.csv", b"phone\n9876543210\n")
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert "staff" in response.json["detail"]
    assert contact_phones(runtime) == set()
    # an admin can still be chosen explicitly
    assert upload(client, "a.csv", b"phone\n9876543210\n", assign_to="1").json["assigned"] == {"1": 1}


def zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<a>" + "0" * (300 * 2**20) + "</a>")
    return out.getvalue()


def xxe_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["phone"])
    workbook.active.append(["9876543210"])
    raw = io.BytesIO()
    workbook.save(raw)
    source = zipfile.ZipFile(io.BytesIO(raw.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>' + data
            archive.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "name,content,status,hint",
    [
        ("list.csv", b"", 422, "empty"),
        ("list.csv", b"\n\n  \n", 422, "header"),
        ("list.csv", b"Name,City\nAsha,Pune\n", 422, "Name"),
        ("list.xlsx", b"phone,name\n9876543210,Asha\n", 415, ".xlsx"),
        ("list.csv", b"\x89PNG\r\n\x1a\n" + bytes(100), 415, "PNG"),
        ("list.pdf", b"%PDF-1.4 ...", 415, None),
        ("list.xls", b"PK\x03\x04garbage", 415, None),
    ],
)
def test_bad_files_are_refused_with_problem_json_and_import_nothing(
    client, runtime, staff, name, content, status, hint
):
    response = upload(client, name, content)
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json" and response.json["status"] == status
    if hint:
        assert hint in response.json["detail"]
    assert contact_phones(runtime) == set()
    assert client.get(UPLOADS, headers=ADMIN).json["total"] == 0


def test_missing_phone_column_names_the_columns_found(client, staff):
    response = upload(client, "list.csv", b"Customer Name,Email,City\nAsha,a@x.in,Pune\n")
    assert response.status_code == 422
    assert response.json["errors"]["columns_found"] == ["Customer Name", "Email", "City"]


def test_hostile_xlsx_is_refused_before_parsing(client, runtime, staff):
    for content in (zip_bomb(), xxe_xlsx()):
        response = upload(client, "list.xlsx", content)
        assert response.status_code == 415, response.json
        assert response.mimetype == "application/problem+json"
    assert contact_phones(runtime) == set()


def test_over_the_size_cap_is_413(app_for, runtime, staff):
    client = app_for(max_upload_bytes=1000)
    response = upload(client, "list.csv", b"phone\n" + b"9876543210\n" * 200)
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert contact_phones(runtime) == set()


def test_a_body_over_the_request_cap_is_413_before_parsing(app_for, runtime, staff):
    client = app_for(max_upload_bytes=2000, max_json_bytes=2000)
    response = upload(client, "list.csv", b"phone\n" + b"9876543210\n" * 2000)
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert contact_phones(runtime) == set()


def test_staff_cannot_upload_or_see_uploads(client, staff):
    assert upload(client, "a.csv", b"phone\n9876543210\n", headers=STAFF).status_code == 403
    assert client.get(UPLOADS, headers=STAFF).status_code == 403


def test_unknown_form_fields_are_rejected(client, runtime, staff):
    response = upload(client, "a.csv", b"phone\n9876543210\n", status="converted")
    assert response.status_code == 422 and "status" in response.json["errors"]
    assert contact_phones(runtime) == set()


def test_idempotency_key_returns_the_first_upload(client, runtime, staff):
    headers = {**ADMIN, "Idempotency-Key": "upload-1"}
    first = upload(client, "a.csv", b"phone\n9876543210\n", headers=headers)
    again = upload(client, "a.csv", b"phone\n9876543210\n", headers=headers)
    assert first.status_code == 201 and again.status_code == 200 and again.json["id"] == first.json["id"]
    assert client.get(UPLOADS, headers=ADMIN).json["total"] == 1


def big_csv(rows: int) -> bytes:
    lines = ["phone,name"] + [f"9{n:09d},Person {n}" for n in range(100_000_000, 100_000_000 + rows)]
    return ("\n".join(lines) + "\n").encode()


def test_large_upload_answers_202_and_shows_progress_until_completed(app_for, runtime, staff, importer):
    client = app_for(async_upload_bytes=10_000)
    content = big_csv(30_000)
    response = upload(client, "big.csv", content, list_name="big")
    assert response.status_code == 202, response.json
    location = response.headers["Location"]
    assert location == f"{UPLOADS}/{response.json['id']}"
    assert response.json["status"] == "processing"
    assert response.json["total_rows"] == 30_000  # estimated from the file before the import counts
    seen = []

    def completed():
        status = client.get(location, headers=ADMIN).json
        seen.append((status["status"], status["rows_done"]))
        assert status["status"] != "processing"
        return status

    final = eventually(completed, timeout=60, interval=0.1)
    assert final["status"] == "completed", final
    assert final["imported"] == 30_000 and final["rows_done"] == final["total_rows"] == 30_000
    assert sorted(final["assigned"].values()) == [10_000, 10_000, 10_000]
    done = [rows for state, rows in seen if state == "processing"]
    assert done == sorted(done)  # progress only moves forward
    assert len(contact_phones(runtime)) == 30_000
    assert len(outbox_events(runtime, "contacts.uploaded")) == 1


def test_failed_background_import_leaves_no_contacts(app_for, runtime, staff, monkeypatch, importer):
    from services.contacts.uploads import writers

    real = writers.CopyWriter.add_contacts
    calls = []

    def failing(self, contacts):
        calls.append(len(contacts))
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(self, contacts)

    monkeypatch.setattr(writers.CopyWriter, "add_contacts", failing)
    client = app_for(async_upload_bytes=10_000)
    response = upload(client, "big.csv", big_csv(20_000))
    assert response.status_code == 202
    final = eventually(
        lambda: (s := client.get(response.headers["Location"], headers=ADMIN).json)["status"] != "processing" and s,
        timeout=60,
    )
    assert final["status"] == "failed" and final["failure_reason"]
    assert contact_phones(runtime) == set()
    assert outbox_events(runtime, "contacts.uploaded") == []


def test_progress_is_reported_per_batch(runtime, staff):
    from services.contacts.importing import read_contact_list
    from services.contacts.uploads.importer import import_contacts
    from services.contacts.uploads.records import NewUpload, create_upload

    seen = []
    with runtime.session_factory() as session:
        upload_row = create_upload(session, NewUpload("big.csv", None, 1, None, "csv", 1))
        import_contacts(
            session,
            upload_row,
            read_contact_list(io.BytesIO(big_csv(2500)), "big.csv"),
            [11, 12, 13],
            batch_rows=1000,
            progress=seen.append,
        )
        session.rollback()
    assert seen == [1000, 2000, 2500]
    assert contact_phones(runtime) == set()  # rolled back: nothing half-written


def test_concurrent_uploads_of_overlapping_lists_store_each_phone_once(app_for, runtime, staff):
    import threading

    first = "phone\n" + "".join(f"98765{n:05d}\n" for n in range(3000))
    second = "phone\n" + "".join(f"98765{n:05d}\n" for n in range(1500, 4500))
    results = []

    def send(content):
        results.append(upload(app_for(), "list.csv", content.encode()).json)

    threads = [threading.Thread(target=send, args=(c,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(r["imported"] + r["already_known"] for r in results) == [3000, 3000]
    assert sum(r["imported"] for r in results) == 4500
    assert sorted(r["already_known"] for r in results) == [0, 1500]
    assert len(contact_phones(runtime)) == 4500


def test_an_upload_whose_import_died_is_shown_failed(client, runtime, staff):
    import datetime as dt

    from services.contacts.uploads.records import NewUpload, create_upload

    with runtime.session_factory() as session:
        stuck = create_upload(session, NewUpload("big.csv", None, 1, None, "csv", 10))
        stuck.heartbeat_at = stuck.heartbeat_at - dt.timedelta(minutes=10)
        session.commit()
        stuck_id = stuck.id
    shown = client.get(f"{UPLOADS}/{stuck_id}", headers=ADMIN).json
    assert shown["status"] == "failed" and "interrupted" in shown["failure_reason"]


@pytest.mark.parametrize("filename", ["contacts.xlsx", "contacts.xls"])
def test_spreadsheets_import_in_the_background_too(app_for, runtime, staff, filename, importer):
    client = app_for(async_upload_bytes=1000)
    response = upload(client, filename, (FIXTURES / filename).read_bytes())
    assert response.status_code == 202, response.json
    final = eventually(
        lambda: (s := client.get(response.headers["Location"], headers=ADMIN).json)["status"] != "processing" and s,
        timeout=60,
    )
    assert final["status"] == "completed", final
    assert final["imported"] == len(EXPECTED["imported_phones"]) and final["invalid"] == len(EXPECTED["rejected"])
    assert contact_phones(runtime) == set(EXPECTED["imported_phones"])
