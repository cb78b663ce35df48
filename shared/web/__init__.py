"""Flask building blocks every HTTP process uses: the app factory, request helpers, paging.

``shared.web.app`` builds the app (``create_service_app``), ``shared.web.http`` holds what a
view asks of the request (runtime, clock, caller, problem+json), ``shared.web.paging`` the
list envelope and ``shared.web.openapi`` what every OpenAPI document says about errors (and
the admin role). Workers import none of this: their ``Runtime`` lives in ``shared.runtime``.
"""

from __future__ import annotations

from ..runtime import Runtime
from .app import (
    PUBLIC_ENDPOINTS,
    BoundedIntegerConverter,
    ProblemApi,
    create_service_app,
    register_error_handlers,
)
from .http import (
    PROBLEM,
    current_principal,
    current_settings,
    now,
    pharmacy_today,
    problem,
    require_admin,
    runtime,
    transaction,
)
from .openapi import admin_only, documented_elsewhere
from .paging import MAX_PER_PAGE, PageArgs, count_rows, page_schema, paginate

__all__ = [
    "MAX_PER_PAGE",
    "PROBLEM",
    "PUBLIC_ENDPOINTS",
    "BoundedIntegerConverter",
    "PageArgs",
    "ProblemApi",
    "Runtime",
    "admin_only",
    "count_rows",
    "create_service_app",
    "current_principal",
    "current_settings",
    "documented_elsewhere",
    "now",
    "page_schema",
    "paginate",
    "pharmacy_today",
    "problem",
    "register_error_handlers",
    "require_admin",
    "runtime",
    "transaction",
]
