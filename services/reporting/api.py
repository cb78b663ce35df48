"""Reporting's HTTP layer: one read-only resource per report, for admins and staff alike.

Both roles see the whole pharmacy's figures (the staff report lists every staff member), so staff
can compare themselves with the team; restricting staff to their own row would be a filter here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from shared.web import pharmacy_today, transaction
from shared.web.downloads import download, download_responses

from . import domain
from .rules import INTERACTION_TYPES, Window, window_for
from .schemas import (
    AdherenceExportQuerySchema,
    AdherencePageQuerySchema,
    AdherenceReportSchema,
    CategoryReportSchema,
    ConsentReportSchema,
    ConversionReportSchema,
    DailyConversionReportSchema,
    ExportQuerySchema,
    GenericsReportSchema,
    ListReportQuerySchema,
    ListReportSchema,
    RefillReportSchema,
    ReportQuerySchema,
    StaffReportSchema,
)

blp = Blueprint(
    "reports",
    __name__,
    url_prefix="/reports",
    description="Conversion, staff, list, category, refill, generics, adherence and consent reports, and their "
    "CSV/XLSX exports (eventually consistent, seconds)",
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


@blp.route("/lists")
class ListReport(MethodView):
    @blp.arguments(ListReportQuerySchema, location="query")
    @blp.response(200, ListReportSchema)
    def get(self, args):
        """Per contact list (upload), newest first: contacts, contacted, converted, rate and value (its ROI)."""
        with transaction() as session:
            return domain.list_report(session, requested_window(args), args["page"], args["per_page"])


@blp.route("/conversion/daily")
class DailyConversionReport(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, DailyConversionReportSchema)
    def get(self, args):
        """Contacted, converted and conversion value per day of the window (zero days included), for charts."""
        with transaction() as session:
            return domain.daily_conversion_report(session, requested_window(args))


@blp.route("/generics")
class GenericsReport(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, GenericsReportSchema)
    def get(self, args):
        """Generic and branded lines, generic share, sales and savings; customers educated about generics."""
        with transaction() as session:
            return domain.generics_report(session, requested_window(args))


@blp.route("/consent")
class ConsentReport(MethodView):
    @blp.response(200, ConsentReportSchema)
    def get(self):
        """How many phones decline WhatsApp, calls, SMS or everything now (who said STOP), of those recorded."""
        with transaction() as session:
            return domain.consent_report(session)


@blp.route("/adherence")
class AdherenceReport(MethodView):
    @blp.arguments(AdherencePageQuerySchema, location="query")
    @blp.response(200, AdherenceReportSchema)
    def get(self, args):
        """Customers whose PDC for a medicine is below the threshold, lowest first (PDC as of each row's day)."""
        with transaction() as session:
            return domain.adherence_report(session, args["threshold"], args["days"], args["page"], args["per_page"])


# -- exports: each report as CSV or XLSX (shared.web.downloads) -------------------------------------
def _one_row(columns: Sequence[str], report: Callable[[Session, Window], dict]):
    def rows(session: Session, window: Window) -> Iterable[Sequence[Any]]:
        body = report(session, window)
        return [[body[column] for column in columns]]

    return rows


def _item_rows(columns: Sequence[str], report: Callable[[Session, Window], Any], flatten=None):
    def rows(session: Session, window: Window) -> Iterable[Sequence[Any]]:
        body = report(session, window)
        for item in body["items"] if isinstance(body, dict) else body:
            item = flatten(item) if flatten else item
            yield [item[column] for column in columns]

    return rows


def _staff_flat(item: dict) -> dict:
    return {**item, **{f"interactions_{kind}": n for kind, n in item["interactions_by_type"].items()}}


WINDOW_COLUMNS = ("window", "from", "to")
STAFF_COLUMNS = (
    "staff_id",
    "name",
    "assigned",
    "contacted",
    "converted",
    "conversion_rate",
    "conversion_value",
    "interactions",
    *(f"interactions_{kind}" for kind in INTERACTION_TYPES),
    "refill_whatsapp_sent",
    "refill_calls",
    "refills_responded",
    "refills_purchased",
    "refill_recovered_value",
)
LIST_COLUMNS = (
    "upload_id",
    "list_name",
    "uploaded_at",
    "contacts",
    "contacted",
    "converted",
    "conversion_rate",
    "conversion_value",
)
CONVERSION_COLUMNS = (
    *WINDOW_COLUMNS,
    "total_contacts",
    "contacted",
    "converted",
    "conversion_rate",
    "total_conversion_value",
    "average_conversion_value",
)
REFILL_COLUMNS = (*WINDOW_COLUMNS, "due", "contacted", "responded", "purchased", "recovery_rate")
GENERICS_COLUMNS = (
    *WINDOW_COLUMNS,
    "generic_items",
    "branded_items",
    "generic_share",
    "generic_sales",
    "savings",
    "customers_educated",
    "educated_then_generic",
)
CATEGORY_COLUMNS = ("category", "customers", "bills", "sales")
ADHERENCE_COLUMNS = ("customer_id", "name", "phone", "medicine_name", "pdc", "as_of")

#: ``{report: (columns, rows(session, window))}`` of every windowed report's export.
EXPORTS: dict[str, tuple[Sequence[str], Callable[[Session, Window], Iterable[Sequence[Any]]]]] = {
    "conversion": (CONVERSION_COLUMNS, _one_row(CONVERSION_COLUMNS, domain.conversion_report)),
    "staff": (STAFF_COLUMNS, _item_rows(STAFF_COLUMNS, domain.staff_report, _staff_flat)),
    "lists": (LIST_COLUMNS, _item_rows(LIST_COLUMNS, domain.list_report_rows)),
    "categories": (CATEGORY_COLUMNS, _item_rows(CATEGORY_COLUMNS, domain.category_report)),
    "refills": (REFILL_COLUMNS, _one_row(REFILL_COLUMNS, domain.refill_report)),
    "generics": (GENERICS_COLUMNS, _one_row(GENERICS_COLUMNS, domain.generics_report)),
}


def _export_view(report: str) -> type[MethodView]:
    columns, rows_of = EXPORTS[report]

    @blp.arguments(ExportQuerySchema, location="query")
    @download_responses(blp, f"The {report} report as CSV (default) or XLSX")
    def get(self, args):
        window = requested_window(args)
        return download(f"{report}-report-{window.name}", args["format"], columns, lambda s: rows_of(s, window))

    get.__doc__ = f"The {report} report of the window as a CSV or XLSX file."
    return type(f"{report.title()}ReportExport", (MethodView,), {"get": get})


for _report in EXPORTS:
    blp.route(f"/{_report}/export")(_export_view(_report))


@blp.route("/adherence/export")
class AdherenceExport(MethodView):
    @blp.arguments(AdherenceExportQuerySchema, location="query")
    @download_responses(blp, "The adherence list as CSV (default) or XLSX")
    def get(self, args):
        """Every customer and medicine below the threshold (not one page) as a CSV or XLSX file."""
        threshold, days = args["threshold"], args["days"]

        def rows(session: Session) -> Iterable[Sequence[Any]]:
            for item in domain.adherence_rows(session, threshold, days):
                yield [item[column] for column in ADHERENCE_COLUMNS]

        return download(f"adherence-below-{threshold}-{days}d", args["format"], ADHERENCE_COLUMNS, rows)
