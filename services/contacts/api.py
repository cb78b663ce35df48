"""Contacts' HTTP layer: parse, call a use case, serialize."""

from __future__ import annotations

import os

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.web import (
    admin_only,
    current_principal,
    current_settings,
    documented_elsewhere,
    paginate,
    pharmacy_today,
    require_admin,
    runtime,
    transaction,
)
from shared.web.downloads import download, download_responses

from . import domain
from .schemas import (
    ContactDetailSchema,
    ContactExportQuerySchema,
    ContactPageSchema,
    ContactPatchSchema,
    ContactQuerySchema,
    ContactSchema,
    ConvertInSchema,
    DueFollowUpPageSchema,
    ErrorReportQuerySchema,
    FollowUpQuerySchema,
    FollowUpSchema,
    InteractionInSchema,
    InteractionSchema,
    UploadFileSchema,
    UploadFormSchema,
    UploadPageSchema,
    UploadQuerySchema,
    UploadSchema,
    WhatsappInSchema,
    WhatsappLinkSchema,
    WhatsappQuerySchema,
    WhatsappSentSchema,
    YellowInSchema,
)
from .settings import ContactsSettings
from .uploads import records
from .uploads.error_report import error_report
from .uploads.use_case import CREATED, STARTED, receive_upload

# Ids in paths are INTEGER columns: ``<int:...>`` makes a larger one a 404, not a database error.
blp = Blueprint("contacts", __name__, url_prefix="/contacts", description="Contact lists and their follow-up")

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_MIMETYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_TYPE}


def _size(stream) -> int:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


# -- uploads -----------------------------------------------------------------------------------
@blp.route("/uploads")
class Uploads(MethodView):
    @blp.arguments(UploadQuerySchema, location="query")
    @blp.response(200, UploadPageSchema)
    @admin_only
    def get(self, args):
        """Upload history, newest first (admin)."""
        with transaction() as session:
            return paginate(session, records.uploads_query(), args["page"], args["per_page"])

    # One multipart/form-data body: UploadFileSchema documents it whole (file, list_name, assign_to).
    @documented_elsewhere(blp.arguments(UploadFormSchema, location="form"))
    @blp.arguments(UploadFileSchema, location="files", content_type="multipart/form-data")
    @blp.response(201, UploadSchema)
    @blp.alt_response(202, schema=UploadSchema, description="Large file: imported in the background; poll Location")
    @blp.alt_response(200, schema=UploadSchema, description="Idempotent replay: the upload the same key created")
    @blp.alt_response(413, description="The file is larger than the upload limit")
    @blp.alt_response(
        415, description="Not a CSV, XLSX or XLS file by its content (whatever its name), or an unsafe XLSX"
    )
    @blp.alt_response(422, description="Invalid fields, no phone column, or no staff to assign the contacts to")
    @admin_only
    def post(self, form, files):
        """Upload a contact list (admin): CSV, XLSX or XLS with a header row; phones become contacts
        assigned round-robin over the chosen staff. Invalid rows go to the error report."""
        admin = require_admin()
        settings = current_settings(ContactsSettings)
        file = files["file"]
        new = records.NewUpload(
            filename=os.path.basename(file.filename or "upload.csv"),
            list_name=form.get("list_name"),
            uploaded_by=admin.id,
            assign_to=form.get("assign_to"),
            file_kind=None,
            file_bytes=_size(file.stream),
        )
        upload, outcome = receive_upload(
            runtime().session_factory,
            new,
            file.stream,
            settings.default_phone_region,
            max_bytes=settings.max_upload_bytes,
            background_above=settings.async_upload_bytes,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        if outcome == STARTED:
            return upload, 202, {"Location": f"/api/v1/contacts/uploads/{upload.id}"}
        return upload, (201 if outcome == CREATED else 200)


@blp.route("/uploads/<int:upload_id>")
class UploadById(MethodView):
    @blp.response(200, UploadSchema)
    @admin_only
    def get(self, upload_id):
        """One upload with its counts (poll while ``status`` is ``processing``)."""
        with transaction() as session:
            return records.get_upload(session, upload_id)


@blp.route("/uploads/<int:upload_id>/errors")
class UploadErrors(MethodView):
    @blp.arguments(ErrorReportQuerySchema, location="query")
    @blp.response(
        200, content_type="text/csv", description="CSV (default) or XLSX (`?format=xlsx`): row, phone, name, reason"
    )
    @blp.doc(
        responses={
            "200": {
                "description": "the rejected rows",
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                },
            }
        }
    )
    @admin_only
    def get(self, args, upload_id):
        """The rejected rows of an upload; cells that a spreadsheet would run as formulas are neutralized."""
        with transaction() as session:
            report = error_report(session, upload_id, args["format"])
        return Response(
            report.content,
            mimetype=REPORT_MIMETYPES[report.file_format],
            headers={"Content-Disposition": f'attachment; filename="{report.filename}"'},
        )


# -- contacts ----------------------------------------------------------------------------------
@blp.route("")
class Contacts(MethodView):
    @blp.arguments(ContactQuerySchema, location="query")
    @blp.response(200, ContactPageSchema)
    def get(self, args):
        """Contacts, newest first (staff: their own), filtered by status, WhatsApp status, staff,
        upload, and ``q`` (name or phone digits); each with its phone's consent."""
        page, per_page = args.pop("page"), args.pop("per_page")
        with transaction() as session:
            listed = paginate(session, domain.contacts_query(current_principal(), **args), page, per_page)
            listed["items"] = domain.contact_views(session, listed["items"])
        return listed


@blp.route("/export")
class ContactsExport(MethodView):
    @blp.arguments(ContactExportQuerySchema, location="query")
    @download_responses(blp, "Every contact the list's filters match (staff: their own), CSV or XLSX")
    def get(self, args):
        """Export the contact list: the same filters as the list, every matching contact with its consent."""
        file_format = args.pop("format")
        stmt = domain.contacts_query(current_principal(), **args)
        return download(
            "contacts", file_format, domain.EXPORT_COLUMNS, lambda session: domain.export_rows(session, stmt)
        )


@blp.route("/<int:contact_id>")
class ContactById(MethodView):
    @blp.response(200, ContactDetailSchema)
    def get(self, contact_id):
        """One contact with its consent, interactions (newest first) and follow-ups (``reminders``: the
        same, deprecated)."""
        with transaction() as session:
            return domain.contact_detail(session, contact_id, current_principal())

    @blp.arguments(ContactPatchSchema)
    @blp.response(200, ContactSchema)
    @blp.alt_response(403, description="Only admins reassign (``assigned_to``)")
    def patch(self, changes, contact_id):
        """Change name or WhatsApp status; admins also reassign (``assigned_to``)."""
        with transaction() as session:
            contact = domain.update_contact(session, contact_id, changes, current_principal())
            return domain.contact_views(session, [contact])[0]


@blp.route("/<int:contact_id>/interactions")
class Interactions(MethodView):
    @blp.arguments(InteractionInSchema)
    @blp.response(201, InteractionSchema)
    @blp.alt_response(
        200, schema=InteractionSchema, description="Idempotent replay: the interaction the same key created"
    )
    @blp.alt_response(
        409, description="The contact's status does not allow it, or the phone declined calls (a call) or WhatsApp"
    )
    def post(self, body, contact_id):
        """Log a call, WhatsApp message, visit or email; a pending contact becomes contacted and
        ``follow_up_at`` schedules a follow-up. A call or WhatsApp to a phone that declined that
        channel is refused (409). Accepts ``Idempotency-Key``."""
        key = request.headers.get("Idempotency-Key")
        with transaction() as session:
            interaction, created = domain.log_interaction(
                session, contact_id, domain.NewInteraction(**body), current_principal(), key
            )
        return interaction, (201 if created else 200)


@blp.route("/<int:contact_id>/convert")
class Convert(MethodView):
    @blp.arguments(ConvertInSchema)
    @blp.response(200, ContactSchema)
    @blp.alt_response(409, description="The contact's status does not allow it")
    def post(self, body, contact_id):
        """Mark converted (today, optional value and bill). Already converted: returned unchanged."""
        with transaction() as session:
            contact = domain.convert(
                session, contact_id, current_principal(), pharmacy_today(), body["conversion_value"], body["bill_id"]
            )
            return domain.contact_views(session, [contact])[0]


@blp.route("/<int:contact_id>/yellow")
class Yellow(MethodView):
    @blp.arguments(YellowInSchema)
    @blp.response(200, ContactSchema)
    @blp.alt_response(409, description="A converted contact cannot be flagged")
    def post(self, body, contact_id):
        """Flag "visited but did not buy"; a converted contact cannot be flagged (409). The contact's
        staff member gets a follow-up ``YELLOW_FOLLOW_UP_DAYS`` (default 3) days later."""
        days = current_settings(ContactsSettings).yellow_follow_up_days
        with transaction() as session:
            contact = domain.flag_yellow(session, contact_id, current_principal(), body["notes"], follow_up_days=days)
            return domain.contact_views(session, [contact])[0]


@blp.route("/<int:contact_id>/whatsapp-link")
class WhatsappLink(MethodView):
    @blp.arguments(WhatsappQuerySchema, location="query")
    @blp.response(200, WhatsappLinkSchema)
    @blp.alt_response(409, description="The phone declined WhatsApp")
    def get(self, args, contact_id):
        """A ``https://wa.me/<digits>?text=...`` link to message the contact (logs nothing: see
        ``POST /contacts/{contact_id}/whatsapp``)."""
        with transaction() as session:
            return {"url": domain.whatsapp_link(session, contact_id, current_principal(), args["template"])}


@blp.route("/<int:contact_id>/whatsapp")
class Whatsapp(MethodView):
    @blp.arguments(WhatsappInSchema, required=False)
    @blp.response(201, WhatsappSentSchema)
    @blp.alt_response(200, schema=WhatsappSentSchema, description="Idempotent replay: the WhatsApp the same key logged")
    @blp.alt_response(409, description="The phone declined WhatsApp; nothing is logged")
    def post(self, body, contact_id):
        """Send a WhatsApp: log it as an interaction (a pending contact becomes contacted) and answer
        the wa.me link with the message typed in. Accepts ``Idempotency-Key``."""
        key = request.headers.get("Idempotency-Key")
        with transaction() as session:
            sent, created = domain.send_whatsapp(
                session, contact_id, current_principal(), (body or {}).get("template"), key
            )
        return sent, (201 if created else 200)


# -- follow-ups --------------------------------------------------------------------------------
def _successor(path: str) -> dict[str, str]:
    # The old /contacts/reminders paths answer as before and say where their successor is (RFC 9745/8594).
    return {"Deprecation": "true", "Link": f'</api/v1/contacts{path}>; rel="successor-version"'}


def _due_follow_ups(args: dict) -> dict:
    with transaction() as session:
        page = paginate(
            session,
            domain.due_follow_ups_query(current_principal(), args["due_within_days"]),
            args["page"],
            args["per_page"],
        )
        page["items"] = domain.due_follow_ups(session, page["items"])
    return page


@blp.route("/follow-ups")
class FollowUps(MethodView):
    @blp.arguments(FollowUpQuerySchema, location="query")
    @blp.response(200, DueFollowUpPageSchema)
    def get(self, args):
        """Open follow-ups of the caller's contacts (admins: all) due within ``due_within_days``
        (overdue included), soonest first."""
        return _due_follow_ups(args)


@blp.route("/follow-ups/<int:follow_up_id>/done")
class FollowUpDone(MethodView):
    @blp.response(200, FollowUpSchema)
    def post(self, follow_up_id):
        """Mark a follow-up done (again: unchanged)."""
        with transaction() as session:
            return domain.complete_follow_up(session, follow_up_id, current_principal())


# Deprecated aliases (API.md's first names), kept until every client uses /contacts/follow-ups.
@blp.route("/reminders")
class FollowUpsAlias(MethodView):
    @blp.doc(deprecated=True)
    @blp.arguments(FollowUpQuerySchema, location="query")
    @blp.response(200, DueFollowUpPageSchema)
    def get(self, args):
        """Deprecated: use ``GET /contacts/follow-ups`` (same query, same answer)."""
        return _due_follow_ups(args), 200, _successor("/follow-ups")


@blp.route("/reminders/<int:reminder_id>/done")
class FollowUpDoneAlias(MethodView):
    @blp.doc(deprecated=True)
    @blp.response(200, FollowUpSchema)
    def post(self, reminder_id):
        """Deprecated: use ``POST /contacts/follow-ups/{follow_up_id}/done`` (same answer)."""
        with transaction() as session:
            follow_up = domain.complete_follow_up(session, reminder_id, current_principal())
        return follow_up, 200, _successor(f"/follow-ups/{reminder_id}/done")
