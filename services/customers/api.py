"""Customers' HTTP layer: parse, call a use case, serialize."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.web import admin_only, current_principal, paginate, pharmacy_today, transaction
from shared.web.downloads import download, download_responses

from . import consent, domain
from .schemas import (
    AdherenceQuerySchema,
    AdherenceSchema,
    AuditPageSchema,
    AuditQuerySchema,
    ConsentChangePageSchema,
    ConsentHistoryQuerySchema,
    ConsentInSchema,
    ConsentSchema,
    CustomerExportQuerySchema,
    CustomerInSchema,
    CustomerPageSchema,
    CustomerPatchSchema,
    CustomerQuerySchema,
    CustomerSchema,
    PhonePathSchema,
    PurchasePageSchema,
    PurchaseQuerySchema,
)

# Ids in paths are INTEGER columns: ``<int:...>`` makes a larger one a 404, not a database error.
blp = Blueprint(
    "customers", __name__, url_prefix="/customers", description="Customer profiles (every read and change is audited)"
)
audit_blp = Blueprint("audit", __name__, url_prefix="/admin/audit", description="Who read or changed which profile")
consent_blp = Blueprint(
    "consent",
    __name__,
    url_prefix="/consent",
    description="What each phone's owner agreed to be contacted by (WhatsApp, call, SMS); every change is kept",
)


@blp.route("")
class Customers(MethodView):
    @blp.arguments(CustomerQuerySchema, location="query")
    @blp.response(200, CustomerPageSchema)
    def get(self, args):
        """List customers, newest first (filter by category; `q` matches a name or phone fragment)."""
        with transaction() as session:
            return paginate(
                session, domain.customers_query(args["category"], args["q"]), args["page"], args["per_page"]
            )

    @blp.arguments(CustomerInSchema)
    @blp.response(201, CustomerSchema)
    @blp.alt_response(200, schema=CustomerSchema, description="Idempotent replay: the customer the same key created")
    @blp.alt_response(409, description="A customer with this phone exists")
    def post(self, body):
        """Create a customer by hand (a phone that already has a profile is 409)."""
        with transaction() as session:
            customer, created = domain.create_customer(
                session, body, current_principal(), request.headers.get("Idempotency-Key"), today=pharmacy_today()
            )
        return customer, (201 if created else 200)


@blp.route("/<int:customer_id>")
class CustomerById(MethodView):
    @blp.response(200, CustomerSchema)
    def get(self, customer_id):
        """One full profile, medical fields included (audited)."""
        with transaction() as session:
            return domain.read_customer(session, customer_id, current_principal())

    @blp.arguments(CustomerPatchSchema)
    @blp.response(200, CustomerSchema)
    @blp.alt_response(409, description="The new phone belongs to another customer")
    def patch(self, changes, customer_id):
        """Change any profile field: basic, medical, preferences, notes, category (audited)."""
        with transaction() as session:
            return domain.update_customer(session, customer_id, changes, current_principal(), today=pharmacy_today())


@blp.route("/by-phone/<phone>")
class CustomerByPhone(MethodView):
    @blp.arguments(PhonePathSchema, location="path")
    @blp.response(200, CustomerSchema)
    def get(self, path_args, phone):
        """The profile of a phone written in any common form (audited)."""
        with transaction() as session:
            return domain.read_customer_by_phone(session, path_args["phone"], current_principal())


@blp.route("/export")
class CustomersExport(MethodView):
    @blp.arguments(CustomerExportQuerySchema, location="query")
    @download_responses(blp, "Every matching customer's basic fields (never medical ones), CSV or XLSX")
    @admin_only
    def get(self, args):
        """Export customers (admin): basic fields only; the export is audit-logged."""
        with transaction() as session:
            domain.record_export(session, current_principal(), args)
        return download(
            "customers",
            args["format"],
            domain.EXPORT_COLUMNS,
            lambda session: domain.export_rows(session, args["category"], args["q"]),
        )


@blp.route("/<int:customer_id>/adherence")
class CustomerAdherence(MethodView):
    @blp.arguments(AdherenceQuerySchema, location="query")
    @blp.response(200, AdherenceSchema)
    def get(self, args, customer_id):
        """Proportion of days covered (PDC) per medicine over the last `days` days (audited)."""
        with transaction() as session:
            return domain.adherence(session, customer_id, current_principal(), pharmacy_today(), args["days"])


@blp.route("/<int:customer_id>/purchases")
class CustomerPurchases(MethodView):
    @blp.arguments(PurchaseQuerySchema, location="query")
    @blp.response(200, PurchasePageSchema)
    def get(self, args, customer_id):
        """A customer's purchases, newest first (audited)."""
        with transaction() as session:
            stmt = domain.purchases_query(session, customer_id, current_principal())
            return paginate(session, stmt, args["page"], args["per_page"])


@audit_blp.route("")
class AuditLog(MethodView):
    @audit_blp.arguments(AuditQuerySchema, location="query")
    @audit_blp.response(200, AuditPageSchema)
    @admin_only
    def get(self, args):
        """Audit entries, newest first (admin): by customer (`subject`), user (id or username), period."""
        with transaction() as session:
            return paginate(
                session,
                domain.audit_query(args["subject"], args["user"], args["from_"], args["to"]),
                args["page"],
                args["per_page"],
            )


@consent_blp.route("/<phone>")
class PhoneConsent(MethodView):
    @consent_blp.arguments(PhonePathSchema, location="path")
    @consent_blp.response(200, ConsentSchema)
    def get(self, path_args, phone):
        """A phone's consent per channel (`unknown` where it was never recorded)."""
        with transaction() as session:
            return consent.get_consent(session, path_args["phone"])

    @consent_blp.arguments(PhonePathSchema, location="path")
    @consent_blp.arguments(ConsentInSchema)
    @consent_blp.response(200, ConsentSchema)
    def put(self, path_args, body, phone):
        """Record what the phone's owner said for some channels, and where (kept in the history)."""
        answers = {channel: value for channel, value in body.items() if channel != "source"}
        with transaction() as session:
            return consent.set_consent(session, path_args["phone"], answers, body["source"], current_principal())


@consent_blp.route("/<phone>/history")
class PhoneConsentHistory(MethodView):
    @consent_blp.arguments(PhonePathSchema, location="path")
    @consent_blp.arguments(ConsentHistoryQuerySchema, location="query")
    @consent_blp.response(200, ConsentChangePageSchema)
    def get(self, path_args, args, phone):
        """Every change of a phone's consent, newest first, with who recorded it and when."""
        with transaction() as session:
            return paginate(session, consent.consent_history_query(path_args["phone"]), args["page"], args["per_page"])
