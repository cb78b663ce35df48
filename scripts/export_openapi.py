"""Write the gateway's merged OpenAPI document to web/src/api/openapi.json without a running stack.

Each service's Flask app (and the gateway's) is built in-process on a throwaway SQLite database,
its ``/openapi.json`` is read through the test client, and the documents are merged with
``gateway.docs.merge_specs`` exactly as the gateway does at ``/api/v1/openapi.json``. The web UI
generates its API types from the file (``npm run gen-api``), so an API change that breaks a
screen fails ``tsc``.

Usage: ``python scripts/export_openapi.py [output path]``.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from gateway.app import create_app as create_gateway  # noqa: E402
from gateway.docs import merge_specs  # noqa: E402
from gateway.models import Base as GatewayBase  # noqa: E402
from gateway.settings import DEFAULT_UPSTREAMS, GatewaySettings  # noqa: E402
from shared.runtime import Runtime  # noqa: E402
from shared.testing import make_settings  # noqa: E402

DEFAULT_OUTPUT = REPO_ROOT / "web" / "src" / "api" / "openapi.json"
#: Never contacted: building the apps and reading their documents opens no connection.
UNUSED_AMQP = "amqp://guest:guest@127.0.0.1:5672/%2F"


def service_apps():
    """``(service name, create_app, settings class)`` for every service the gateway routes to."""
    from services.billing.app import create_app as billing
    from services.contacts.app import create_app as contacts
    from services.contacts.settings import ContactsSettings
    from services.customers.app import create_app as customers
    from services.reminders.app import create_app as reminders
    from services.reporting.app import create_app as reporting
    from shared.config import Settings

    return [
        ("billing", billing, Settings),
        ("customers", customers, Settings),
        ("contacts", contacts, ContactsSettings),
        ("reminders", reminders, Settings),
        ("reporting", reporting, Settings),
    ]


def read_spec(app) -> dict:
    """The app's ``/openapi.json`` (a public route) through its test client."""
    answer = app.test_client().get("/openapi.json")
    if answer.status_code != 200:
        raise SystemExit(f"{app.name}: /openapi.json answered {answer.status_code}")
    return answer.get_json()


def build_spec(workdir: Path) -> dict:
    services = []
    for name, create_app, cls in service_apps():
        settings = make_settings(name, f"sqlite:///{workdir / name}.db", UNUSED_AMQP, cls=cls)
        runtime = Runtime.build(settings)
        try:
            services.append((name, read_spec(create_app(settings, runtime)), None))
        finally:
            runtime.engine.dispose()
    assert {name for name, _, _ in services} == set(DEFAULT_UPSTREAMS)
    settings = make_settings("gateway", f"sqlite:///{workdir / 'gateway'}.db", UNUSED_AMQP, cls=GatewaySettings)
    runtime = Runtime.build(settings)
    try:
        # The gateway creates its first admin at start-up, so it needs its tables.
        GatewayBase.metadata.create_all(runtime.engine)
        gateway = create_gateway(
            settings, runtime, environ={"ADMIN_USERNAME": "export", "ADMIN_PASSWORD": "export-openapi-only"}
        )
        own = gateway.extensions["gateway_api"].spec.to_dict()
    finally:
        runtime.engine.dispose()
    return merge_specs(own, services)


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else DEFAULT_OUTPUT
    logging.disable(logging.CRITICAL)  # app factories log their start; this script prints one line
    with tempfile.TemporaryDirectory(prefix="export-openapi-") as workdir:
        spec = build_spec(Path(workdir))
    output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if not output.exists() or output.read_text() != text:
        output.write_text(text)
    print(
        f"wrote {output.relative_to(REPO_ROOT) if output.is_relative_to(REPO_ROOT) else output}: {len(spec['paths'])} paths"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
