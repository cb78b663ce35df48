"""The gateway's own routes: sign-in, the signed-in user, staff administration, dead letters."""

from __future__ import annotations

import json

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from shared.dead_letters_api import DeadLetterQuerySchema, ReplayInSchema, ReplayResultSchema
from shared.errors import NotFound
from shared.web import admin_only, current_principal, current_settings, now, paginate, transaction

from . import staff as domain
from .accounts import SignInResult, sign_in
from .proxy import forward, get_from_each
from .schemas import (
    DeadLetterOverviewSchema,
    LoginSchema,
    StaffInSchema,
    StaffPageSchema,
    StaffPatchSchema,
    StaffQuerySchema,
    StaffSchema,
    TokenSchema,
    UserSchema,
)
from .settings import CONSUMING_SERVICES, GatewaySettings

auth_blp = Blueprint("auth", __name__, url_prefix="/auth", description="Sign-in")
staff_blp = Blueprint("staff", __name__, url_prefix="/staff", description="Staff members and admins (admin)")
admin_blp = Blueprint("admin", __name__, url_prefix="/admin", description="Operations (admin)")


@auth_blp.route("/login", endpoint="login")
class Login(MethodView):
    @auth_blp.doc(security=[])
    @auth_blp.arguments(LoginSchema)
    @auth_blp.response(200, TokenSchema)
    @auth_blp.alt_response(401, description="Wrong username or password (one answer for both)")
    @auth_blp.alt_response(429, description="Five failed sign-ins within a minute for this username and address")
    def post(self, body: dict[str, str]) -> SignInResult:
        """Exchange a username and password for a bearer token."""
        with transaction() as session:
            return sign_in(
                session,
                body["username"],
                body["password"],
                request.remote_addr or "unknown",
                current_settings(GatewaySettings),
                clock=now,
            )


@auth_blp.route("/me", endpoint="me")
class Me(MethodView):
    @auth_blp.response(200, UserSchema)
    def get(self):
        """The signed-in user (401 once the account is disabled or its role changed)."""
        with transaction() as session:
            return domain.current_account(session, current_principal())


@staff_blp.route("", endpoint="list")
class StaffList(MethodView):
    @staff_blp.arguments(StaffQuerySchema, location="query")
    @staff_blp.response(200, StaffPageSchema)
    @admin_only
    def get(self, args):
        """Staff members and admins (filter by ``active`` and ``role``)."""
        with transaction() as session:
            return paginate(session, domain.staff_query(args["active"], args["role"]), args["page"], args["per_page"])

    @staff_blp.arguments(StaffInSchema)
    @staff_blp.response(201, StaffSchema)
    @staff_blp.alt_response(409, description="The username is taken")
    @admin_only
    def post(self, body):
        """Add a staff member or admin."""
        with transaction() as session:
            return domain.create_staff(session, domain.NewStaff(**body))


@staff_blp.route("/<int:staff_id>", endpoint="one")
class StaffById(MethodView):
    @staff_blp.response(200, StaffSchema)
    @admin_only
    def get(self, staff_id):
        """One staff member."""
        with transaction() as session:
            return domain.get_user(session, staff_id)

    @staff_blp.arguments(StaffPatchSchema)
    @staff_blp.response(200, StaffSchema)
    @staff_blp.alt_response(409, description="The change would leave no active admin")
    @admin_only
    def patch(self, body, staff_id):
        """Rename, change role, enable/disable or set a new password (at least one)."""
        with transaction() as session:
            return domain.update_staff(session, staff_id, body)


@admin_blp.route("/dead-letters", endpoint="dead_letters")
class DeadLetters(MethodView):
    @admin_blp.arguments(DeadLetterQuerySchema, location="query")
    @admin_blp.response(200, DeadLetterOverviewSchema)
    @admin_only
    def get(self, args):
        """Dead letters of every consuming service, grouped by service (a service that is down is marked unavailable)."""
        headers = {
            "Authorization": request.headers["Authorization"],
            "X-Request-ID": g.request_id,
            "Accept": "application/json",
        }
        services = {
            service: (
                {"available": True, "total": page.get("total", 0), "items": page.get("items", [])}
                if page is not None
                else {"available": False, "detail": why, "total": 0, "items": []}
            )
            for service, page, why in get_from_each(
                CONSUMING_SERVICES, "/api/v1/admin/dead-letters", params=args, headers=headers
            )
        }
        return {"services": services, "total": sum(s["total"] for s in services.values())}


@admin_blp.route(f"/dead-letters/<any({', '.join(CONSUMING_SERVICES)}):service>/replay", endpoint="dead_letters_replay")
class DeadLetterReplay(MethodView):
    @admin_blp.arguments(ReplayInSchema, required=False)
    @admin_blp.response(200, ReplayResultSchema, description="How many were sent back to their queues")
    @admin_only
    def post(self, body, service):
        """Replay a service's archived dead letters (all, or those in ``ids``) through the service."""
        if service not in CONSUMING_SERVICES:  # pragma: no cover - the route's converter allows no other
            raise NotFound(f"{service!r} keeps no dead letters; choose from {', '.join(CONSUMING_SERVICES)}")
        payload = {} if body.get("ids") is None else {"ids": body["ids"]}
        return forward(
            service, path="/api/v1/admin/dead-letters/replay", method="POST", body=json.dumps(payload).encode()
        )
