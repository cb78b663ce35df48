"""The gateway's app factory: sign-in and staff, routing to the services, docs and the web UI."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, Response, g, request, send_from_directory
from werkzeug.middleware.proxy_fix import ProxyFix

from shared.config import load_settings
from shared.runtime import Runtime
from shared.web import create_service_app, transaction

from . import proxy
from .api import admin_blp, auth_blp, staff_blp
from .bootstrap import ensure_admin
from .docs import docs_blp
from .settings import GatewaySettings
from .staff import current_account

# Routes anyone may call: sign-in, docs, the web UI's files (health and static are public in shared.web).
PUBLIC = {"auth.login", "docs.openapi_json", "docs.asyncapi_json", "docs.docs_page", "ui"}
UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def create_app(
    settings: GatewaySettings | None = None, runtime: Runtime | None = None, environ: Mapping[str, str] | None = None
) -> Flask:
    """The gateway; tests pass their own settings (upstream base URLs among them) and runtime.

    Creates the first admin from ADMIN_USERNAME/ADMIN_PASSWORD (read from ``environ``, default
    the process environment) when no active admin exists (idempotent; the same as
    ``python -m gateway.bootstrap``).
    """
    settings = settings or load_settings("gateway", environ, cls=GatewaySettings)
    runtime = (runtime or Runtime.build(settings)).with_settings(settings)
    app, api = create_service_app(
        "gateway",
        settings,
        title="Gateway",
        runtime_obj=runtime,
        blueprints=[auth_blp, staff_blp, admin_blp],
        public_endpoints=PUBLIC,
    )
    app.extensions["gateway_api"] = api
    proxy.register_routes(app)
    app.register_blueprint(docs_blp)

    @app.before_request
    def _account_still_allowed() -> None:
        # Runs after the token check of shared.web, which set g.principal on protected routes.
        if "principal" in g and request.endpoint != "auth.me":
            with transaction() as session:
                current_account(session, g.principal)

    @app.get("/", endpoint="ui")
    def ui() -> Response:
        return send_from_directory(str(app.static_folder), "index.html", max_age=0)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if response.mimetype == "text/html":
            response.headers.setdefault("Content-Security-Policy", UI_CSP)
        return response

    if settings.trusted_proxies:
        # Behind N reverse proxies the client address (used by the sign-in limit) is in X-Forwarded-For.
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=settings.trusted_proxies,  # type: ignore[method-assign]
            x_proto=settings.trusted_proxies,
        )
    ensure_admin(runtime.session_factory, environ)
    return app
