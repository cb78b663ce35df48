"""The admin HTTP side of a service's dead-letter archive: list and replay.

A consuming service mounts it with
``create_service_app(..., blueprints=[..., dead_letters_blueprint(messaging)])``; the gateway
aggregates ``GET /api/v1/admin/dead-letters`` over the services (with the same query schema)
and forwards replays. It depends on ``shared.web``'s helpers, never the other way round.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate
from sqlalchemy import select

from .fields import QuerySchema, StrictSchema, UtcDateTime
from .messaging import MessagingTables
from .web.http import require_admin, transaction
from .web.paging import PageArgs, count_rows

# Dead-letter ids are BIGINT: a larger number would be a database error, not "no such letter".
MAX_DEAD_LETTER_ID = 2**63 - 1


class DeadLetterQuerySchema(PageArgs, QuerySchema):
    """``?status=archived|replayed|all&page=&per_page=`` (the gateway's overview takes the same).

    Pages are bounded like every list's (``PageArgs``): a huge one would overflow the OFFSET.
    """

    status = ma.fields.String(load_default="archived", validate=validate.OneOf(("archived", "replayed", "all")))


class DeadLetterSchema(ma.Schema):
    id = ma.fields.Integer()
    queue = ma.fields.String()
    message_id = ma.fields.String(allow_none=True)
    event_type = ma.fields.String(allow_none=True)
    reason = ma.fields.String()
    dead_lettered_at = UtcDateTime()
    replayed_at = UtcDateTime(allow_none=True)
    status = ma.fields.String()
    body = ma.fields.String()


class DeadLetterPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DeadLetterSchema))
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
    total = ma.fields.Integer()


class ReplayInSchema(StrictSchema):
    ids = ma.fields.List(
        ma.fields.Integer(validate=validate.Range(min=1, max=MAX_DEAD_LETTER_ID)),
        load_default=None,
        validate=validate.Length(min=1, max=10000),
    )


class ReplayResultSchema(ma.Schema):
    replayed = ma.fields.Integer()


def dead_letters_blueprint(tables: MessagingTables) -> Blueprint:
    """A blueprint (``/admin/dead-letters``) listing and replaying ``tables``' dead letters (admin only)."""
    blp = Blueprint(
        "dead_letters",
        __name__,
        url_prefix="/admin/dead-letters",
        description="Messages that failed their delivery limit (admin)",
    )
    table = tables.dead_letters

    @blp.route("", endpoint="list")
    class DeadLetters(MethodView):
        @blp.arguments(DeadLetterQuerySchema, location="query")
        @blp.response(200, DeadLetterPageSchema)
        def get(self, args: dict[str, Any]) -> dict[str, Any]:
            """Dead letters, newest first (``status=archived`` by default, or ``replayed``/``all``)."""
            require_admin()
            stmt = select(table).order_by(table.c.id.desc())
            if args["status"] != "all":
                stmt = stmt.where(table.c.status == args["status"])
            with transaction() as session:
                total = count_rows(session, stmt)
                rows = session.execute(stmt.limit(args["per_page"]).offset((args["page"] - 1) * args["per_page"])).all()
            return {
                "items": [dict(row._mapping) for row in rows],
                "page": args["page"],
                "per_page": args["per_page"],
                "total": total,
            }

    @blp.route("/replay", endpoint="replay")
    class Replay(MethodView):
        @blp.arguments(ReplayInSchema)
        @blp.response(200, ReplayResultSchema)
        def post(self, body: dict[str, Any]) -> dict[str, int]:
            """Send archived dead letters (all, or the given ``ids``) back to their queues via the outbox."""
            require_admin()
            with transaction() as session:
                replayed = tables.replay_dead_letters(session, body.get("ids"))
            return {"replayed": replayed}

    return blp
