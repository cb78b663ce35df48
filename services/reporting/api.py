"""Reporting's HTTP layer: one read-only resource per report, for admins and staff alike.

Both roles see the whole pharmacy's figures (the staff report lists every staff member), so staff
can compare themselves with the team; restricting staff to their own row would be a filter here.
"""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from shared.web import pharmacy_today, transaction

from . import domain
from .rules import Window, window_for
from .schemas import (
    CategoryReportSchema,
    ConversionReportSchema,
    RefillReportSchema,
    ReportQuerySchema,
    StaffReportSchema,
)

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/reports",
    description="Conversion, staff, category and refill reports (eventually consistent, seconds)",
)


def requested_window(args: dict) -> Window:
    return window_for(args["window"], pharmacy_today())


@blp.route("/conversion")
class ConversionReport(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, ConversionReportSchema)
    def get(self, args):
        """Contacts uploaded, contacted and converted, with conversion rate and value."""
        with transaction() as session:
            return domain.conversion_report(session, requested_window(args))


@blp.route("/staff")
class StaffReport(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, StaffReportSchema)
    def get(self, args):
        """Per staff member: assigned, contacted, converted, rate, value and interactions."""
        with transaction() as session:
            return domain.staff_report(session, requested_window(args))


@blp.route("/categories")
class CategoryReport(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, CategoryReportSchema)
    def get(self, args):
        """Per customer category: new customers, bills and sales."""
        with transaction() as session:
            return domain.category_report(session, requested_window(args))


@blp.route("/refills")
class RefillReport(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, RefillReportSchema)
    def get(self, args):
        """Refill reminders due in the window: contacted, responded, purchased and recovery rate."""
        with transaction() as session:
            return domain.refill_report(session, requested_window(args))
