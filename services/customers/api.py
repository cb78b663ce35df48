"""Customers' HTTP layer: parse, call a use case, serialize."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.web import current_principal, paginate, require_admin, transaction

from . import domain
from .schemas import (
    AuditPageSchema,
    AuditQuerySchema,
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
                session, body, current_principal(), request.headers.get("Idempotency-Key")
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
            return domain.update_customer(session, customer_id, changes, current_principal())


@blp.route("/by-phone/<phone>")
class CustomerByPhone(MethodView):
    @blp.arguments(PhonePathSchema, location="path")
    @blp.response(200, CustomerSchema)
    def get(self, path_args, phone):
        """The profile of a phone written in any common form (audited)."""
        with transaction() as session:
            return domain.read_customer_by_phone(session, path_args["phone"], current_principal())


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
    def get(self, args):
        """Audit entries, newest first (admin): by customer (`subject`), user (id or username), period."""
        require_admin()
        with transaction() as session:
            return paginate(
                session,
                domain.audit_query(args["subject"], args["user"], args["from_"], args["to"]),
                args["page"],
                args["per_page"],
            )
