"""Reminders' HTTP layer: parse, call a use case, serialize."""

from __future__ import annotations

import datetime as dt

from flask.views import MethodView
from flask_smorest import Blueprint

from shared.web import current_principal, now, paginate, pharmacy_today, transaction
from shared.web.downloads import download, download_responses

from . import domain
from .schemas import (
    CallInSchema,
    RefillExportQuerySchema,
    RefillQuerySchema,
    RefillReminderPageSchema,
    RefillReminderSchema,
    ReminderByHandInSchema,
    ResponseInSchema,
    WhatsappReminderSchema,
)

# Ids in paths are INTEGER columns: ``<int:...>`` makes a larger one a 404, not a database error.
blp = Blueprint(
    "refill_reminders",
    __name__,
    url_prefix="/reminders/refills",
    description="Refill reminders: who needs their medicine again, and what staff did about it",
)

CLOSED = "The reminder is closed (purchased)"


@blp.route("")
class RefillReminders(MethodView):
    @blp.arguments(RefillQuerySchema, location="query")
    @blp.response(200, RefillReminderPageSchema)
    def get(self, args):
        """List refill reminders, soonest first (by default the ones still due)."""
        day = pharmacy_today()
        due_by = day + dt.timedelta(days=args["days_ahead"]) if args["days_ahead"] is not None else None
        with transaction() as session:
            page = paginate(
                session,
                domain.reminders_query(args["status"], due_by, args["customer_id"]),
                args["page"],
                args["per_page"],
            )
            page["items"] = domain.reminder_views(session, page["items"], day)
        return page

    @blp.arguments(ReminderByHandInSchema)
    @blp.response(201, RefillReminderSchema)
    def post(self, body):
        """Set a refill reminder by hand (the profile's "Set refill reminder"), closed by the next purchase."""
        day = pharmacy_today()
        with transaction() as session:
            reminder = domain.set_reminder_by_hand(
                session,
                str(body["customer_id"]),
                body["medicine_name"],
                body["reminder_date"],
                current_principal().id,
                day,
            )
            return domain.reminder_views(session, [reminder], day)[0]


@blp.route("/export")
class RefillRemindersExport(MethodView):
    @blp.arguments(RefillExportQuerySchema, location="query")
    @download_responses(blp, "The refill reminders as listed (still due by default), CSV or XLSX")
    def get(self, args):
        """Export the due list: the same filters as the list, every matching reminder."""
        day = pharmacy_today()
        due_by = day + dt.timedelta(days=args["days_ahead"]) if args["days_ahead"] is not None else None
        return download(
            "refill-reminders",
            args["format"],
            domain.EXPORT_COLUMNS,
            lambda session: domain.export_rows(session, domain.reminders_query(args["status"], due_by), day),
        )


@blp.route("/<int:reminder_id>")
class RefillReminderById(MethodView):
    @blp.response(200, RefillReminderSchema)
    def get(self, reminder_id):
        """One refill reminder."""
        with transaction() as session:
            return domain.reminder_views(session, [domain.get_reminder(session, reminder_id)], pharmacy_today())[0]


@blp.route("/<int:reminder_id>/whatsapp")
class WhatsappSent(MethodView):
    @blp.response(200, WhatsappReminderSchema)
    @blp.alt_response(409, description="The reminder is closed, or the customer's phone is not known yet")
    def post(self, reminder_id):
        """Record a WhatsApp reminder; returns the wa.me link that sends it."""
        with transaction() as session:
            reminder, url = domain.send_whatsapp(session, reminder_id, current_principal().id, now())
            return {**domain.reminder_views(session, [reminder], pharmacy_today())[0], "whatsapp_url": url}


@blp.route("/<int:reminder_id>/call")
class CallMade(MethodView):
    @blp.arguments(CallInSchema)
    @blp.response(200, RefillReminderSchema)
    @blp.alt_response(409, description=CLOSED)
    def post(self, body, reminder_id):
        """Record a phone call to the customer."""
        with transaction() as session:
            reminder = domain.record_call(
                session, reminder_id, current_principal().id, now(), body["notes"], body["successful"]
            )
            return domain.reminder_views(session, [reminder], pharmacy_today())[0]


@blp.route("/<int:reminder_id>/response")
class CustomerResponded(MethodView):
    @blp.arguments(ResponseInSchema)
    @blp.response(200, RefillReminderSchema)
    @blp.alt_response(409, description=CLOSED)
    def post(self, body, reminder_id):
        """Record the customer's answer (the refill stays due until purchased)."""
        with transaction() as session:
            reminder = domain.record_response(
                session, reminder_id, current_principal().id, now(), body["customer_response"]
            )
            return domain.reminder_views(session, [reminder], pharmacy_today())[0]


@blp.route("/<int:reminder_id>/purchased")
class RefillPurchased(MethodView):
    @blp.response(200, RefillReminderSchema)
    def post(self, reminder_id):
        """Close the reminder: the customer bought the refill (idempotent)."""
        with transaction() as session:
            reminder = domain.mark_purchased(session, reminder_id, current_principal().id, now())
            return domain.reminder_views(session, [reminder], pharmacy_today())[0]
