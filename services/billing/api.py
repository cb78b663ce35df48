"""Billing's HTTP layer: parse, call a use case, serialize."""

from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.web import current_principal, paginate, pharmacy_today, transaction

from . import domain
from .schemas import BillInSchema, BillPageSchema, BillQuerySchema, BillSchema

blp = Blueprint("bills", __name__, url_prefix="/bills", description="Bills from the till")


@blp.route("")
class Bills(MethodView):
    @blp.arguments(BillQuerySchema, location="query")
    @blp.response(200, BillPageSchema)
    def get(self, args):
        """List bills, newest first (filter by phone and date range)."""
        with transaction() as session:
            return paginate(
                session, domain.bills_query(args["phone"], args["from_"], args["to"]), args["page"], args["per_page"]
            )

    @blp.arguments(BillInSchema)
    @blp.response(201, BillSchema)
    @blp.alt_response(200, schema=BillSchema, description="Idempotent replay: the bill the same key created")
    def post(self, body):
        """Create a bill; its effects (customer, conversion, reminders) follow asynchronously."""
        items = [domain.NewItem(**item) for item in body.pop("items")]
        today = pharmacy_today()
        new = domain.NewBill(items=items, **{**body, "bill_date": body["bill_date"] or today})
        with transaction() as session:
            bill, created = domain.create_bill(
                session, new, current_principal().id, today, request.headers.get("Idempotency-Key")
            )
        return bill, (201 if created else 200)


@blp.route("/<int:bill_id>")
class BillById(MethodView):
    @blp.response(200, BillSchema)
    def get(self, bill_id):
        """One bill with its items."""
        with transaction() as session:
            return domain.get_bill(session, bill_id)
