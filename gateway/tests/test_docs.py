"""One OpenAPI document for the system, a docs page and a web UI that load nothing from elsewhere."""

import re
from pathlib import Path

from gateway.docs import merge_specs

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)
STATIC = Path(__file__).resolve().parent.parent / "static"


def test_the_aggregated_spec_has_the_gateway_and_billing_paths(client):
    spec = client.get("/api/v1/openapi.json").json
    assert {
        "/api/v1/auth/login",
        "/api/v1/staff",
        "/api/v1/staff/{staff_id}",
        "/api/v1/admin/dead-letters",
        "/api/v1/bills",
        "/api/v1/bills/{bill_id}",
    } <= set(spec["paths"])
    assert "post" in spec["paths"]["/api/v1/bills"]
    assert {"BillIn", "Bill", "StaffIn"} <= set(spec["components"]["schemas"])
    assert spec["paths"]["/api/v1/auth/login"]["post"]["security"] == []
    # The services that are down are named, not fatal.
    for service in ("customers", "contacts", "reminders", "reporting"):
        assert service in spec["info"]["description"]
    assert "billing" not in spec["info"]["description"]


def test_clashing_component_names_are_prefixed_and_references_rewritten():
    own = {
        "info": {"version": "1"},
        "paths": {"/api/v1/staff": {}},
        "components": {"schemas": {"Item": {"type": "string"}, "Error": {"type": "object"}}},
    }
    billing = {
        "paths": {
            "/api/v1/bills": {
                "get": {
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}
                    }
                }
            },
            "/api/v1/admin/dead-letters/replay": {"post": {}},
        },
        "components": {
            "schemas": {
                "Item": {"type": "object", "properties": {"e": {"$ref": "#/components/schemas/Error"}}},
                "Error": {"type": "object"},
            }
        },
    }
    merged = merge_specs(own, [("billing", billing, None), ("reporting", None, "unreachable")])
    schemas = merged["components"]["schemas"]
    assert schemas["Item"] == {"type": "string"}
    assert schemas["BillingItem"]["properties"]["e"] == {"$ref": "#/components/schemas/Error"}
    ref = merged["paths"]["/api/v1/bills"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ref == {"$ref": "#/components/schemas/BillingItem"}
    assert "/api/v1/admin/dead-letters/replay" not in merged["paths"]  # not routed to billing
    assert "reporting (unreachable)" in merged["info"]["description"]


def test_the_docs_page_is_self_contained(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "/api/v1/bills" in html and "/api/v1/auth/login" in html
    assert not EXTERNAL.search(html)
    assert "<script" not in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_the_web_ui_is_served_from_the_gateway_without_external_assets(client):
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    html = page.get_data(as_text=True)
    assert 'src="/static/app.js"' in html
    for path in STATIC.iterdir():
        text = path.read_text()
        assert not EXTERNAL.search(text), path.name
        assert "cdn" not in text.lower() and "@import" not in text, path.name
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/app.css").status_code == 200
