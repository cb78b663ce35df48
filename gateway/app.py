"""The gateway's app factory: sign-in and staff, routing to the services, docs and the web UI."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask, Response, g, request, send_from_directory
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import PathConverter

from shared.config import REPO_ROOT, load_settings
from shared.runtime import Runtime
from shared.web import create_service_app, problem

from . import proxy
from .api import admin_blp, auth_blp, staff_blp
from .bootstrap import ensure_admin
from .docs import docs_blp
from .models import messaging
from .settings import GatewaySettings
from .staff import check_account

# Routes anyone may call: sign-in, docs, the web UI's files (health and static are public in shared.web).
PUBLIC = {"auth.login", "docs.openapi_json", "docs.asyncapi_json", "docs.docs_page", "ui", "ui_asset", "ui_route"}
#: The built web UI (web/: `make web`, or the Node stage of the Dockerfile), unless WEB_DIST_DIR says.
WEB_DIST = REPO_ROOT / "web" / "dist"
#: Vite names every built asset by its content hash, so a file under /assets/ never changes.
ASSET_MAX_AGE = 365 * 24 * 3600
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
        messaging=messaging,
    )
    app.extensions["gateway_api"] = api
    proxy.register_routes(app)
    app.register_blueprint(docs_blp)

    @app.before_request
    def _account_still_allowed() -> None:
        # Runs after the token check of shared.web, which set g.principal on protected routes;
        # one primary-key lookup outside any transaction (/auth/me reads the whole account itself).
        if "principal" in g and request.endpoint != "auth.me":
            check_account(runtime.engine, g.principal)

    register_web_ui(app, Path(settings.web_dist_dir) if settings.web_dist_dir else WEB_DIST)

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
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trusted_proxies,
            x_proto=settings.trusted_proxies,
        )
    ensure_admin(runtime.session_factory, environ)
    return app


class UiPath(PathConverter):
    """A client route of the web UI: any path but the API's, Flask's /static/ and the built /assets/."""

    regex = r"(?!api(?:/|$)|static/|assets/)[^/].*?"


def register_web_ui(app: Flask, dist: Path) -> None:
    """Serve the built single-page app: hashed assets cached for a year, index.html for every client route.

    Deep links (``/contacts/42``) get index.html, so a reload or a bookmark opens that screen;
    unknown ``/api/...`` paths are not caught here (they stay 401/404 from the API).
    """
    app.url_map.converters["ui_path"] = UiPath

    def index() -> Response:
        if not (dist / "index.html").is_file():
            return problem(503, "Web UI not built", "the web UI is not built here: run `make web` (needs Node.js 20)")
        response = send_from_directory(dist, "index.html", max_age=0)
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.get("/", endpoint="ui")
    def ui() -> Response:
        return index()

    @app.get("/assets/<path:filename>", endpoint="ui_asset")
    def ui_asset(filename: str) -> Response:
        response = send_from_directory(dist / "assets", filename, max_age=ASSET_MAX_AGE)
        response.headers["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}, immutable"
        return response

    @app.get("/<ui_path:path>", endpoint="ui_route")
    def ui_route(path: str) -> Response:
        # A file of the build's root (favicon.svg) as itself, anything else is a client route.
        if "/" not in path and (dist / path).is_file() and path != "index.html":
            return send_from_directory(dist, path, max_age=3600)
        return index()
