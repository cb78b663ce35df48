"""One OpenAPI document for the system, a docs page and a web UI that load nothing from elsewhere."""

import re

from openapi_spec_validator import validate

from gateway.app import WEB_DIST
from gateway.docs import SWAGGER_UI

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


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


def test_the_aggregated_spec_is_valid_openapi_3_with_problem_json_errors(client):
    spec = client.get("/api/v1/openapi.json").json
    validate(spec)  # openapi-spec-validator: raises on an invalid document
    assert spec["openapi"].startswith("3.")
    schemas, responses = spec["components"]["schemas"], spec["components"].get("responses", {})
    assert {"type", "title", "status", "detail"} <= set(schemas["Problem"]["required"])
    operations = [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) > 8
    for path, method, operation in operations:
        answers = operation["responses"]
        assert "default" not in answers, (method, path)
        if operation.get("security") != []:
            assert "401" in answers, (method, path)
        if "{" in path:
            assert "404" in answers, (method, path)
        for status, answer in answers.items():
            answer = responses[answer["$ref"].rsplit("/", 1)[-1]] if "$ref" in answer else answer
            if int(status) >= 400:
                assert list(answer["content"]) == ["application/problem+json"], (method, path, status)
                expected = "ValidationProblem" if status == "422" else "Problem"
                schema = answer["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": f"#/components/schemas/{expected}"}, (method, path, status)
    staff = spec["paths"]["/api/v1/staff/{staff_id}"]
    assert "403" in staff["get"]["responses"] and "403" not in spec["paths"]["/api/v1/auth/me"]["get"]["responses"]
    assert spec["paths"]["/api/v1/auth/login"]["post"]["responses"].keys() >= {"401", "422", "429"}
    assert schemas["StaffPatch"]["minProperties"] == 1 and schemas["StaffPatch"]["additionalProperties"] is False
    assert staff["parameters"][0]["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
    phone = schemas["BillIn"]["properties"]["customer_phone"]
    assert phone["format"] == "phone" and phone["maxLength"] == 32 and "pattern" in phone
    # What the gateway itself answers on a routed path when the service is down or slow.
    assert {"502", "504"} <= set(spec["paths"]["/api/v1/bills"]["post"]["responses"])


def test_the_interactive_docs_page_is_swagger_ui_served_from_the_gateway(client):
    response = client.get("/api/v1/docs")  # no token
    assert response.status_code == 200 and response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "connect-src 'self'" in csp and "default-src 'none'" in csp
    html = response.get_data(as_text=True)
    assert not EXTERNAL.search(html)
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S)
    sources = re.findall(r"<script\b[^>]*\bsrc=\"([^\"]+)\"", html)
    assert len(scripts) == len(sources) == 2 and all(body.strip() == "" for body in scripts)  # none inline
    stylesheets = re.findall(r"<link\b[^>]*\bhref=\"([^\"]+)\"", html)
    for url, mimetype in [*((u, "text/javascript") for u in sources), *((u, "text/css") for u in stylesheets)]:
        assert url.startswith("/api/v1/docs/assets/"), url
        asset = client.get(url)
        assert asset.status_code == 200 and asset.mimetype == mimetype, url
    initializer = client.get("/api/v1/docs/assets/swagger-initializer.js").get_data(as_text=True)
    assert '"/api/v1/openapi.json"' in initializer
    assert "Apache License" in (SWAGGER_UI / "LICENSE").read_text()
    # Only the page's own files are served from the folder.
    for other in ("LICENSE", "README.md", "../docs.py", "swagger-ui-bundle.js.map"):
        assert client.get(f"/api/v1/docs/assets/{other}").status_code in (401, 404), other


def test_the_plain_docs_page_is_self_contained(client):
    response = client.get("/api/v1/docs/plain")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "/api/v1/bills" in html and "/api/v1/auth/login" in html
    assert not EXTERNAL.search(html)
    assert "<script" not in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_the_web_ui_is_served_from_the_gateway_without_external_assets(client):
    # The built UI (web/dist: `make web`; `make test` builds it before pytest).
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html", "build the web UI first: make web"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-cache"
    html = page.get_data(as_text=True)
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all('src="/assets/' in tag for tag in scripts), scripts  # no inline script
    assert not EXTERNAL.search(html)
    for path in (WEB_DIST / "assets").iterdir():
        text = path.read_text()
        assert not EXTERNAL.search(text), path.name
        assert "@import" not in text, path.name
        asset = client.get(f"/assets/{path.name}")
        assert asset.status_code == 200
        assert "immutable" in asset.headers["Cache-Control"]


def test_client_routes_of_the_web_ui_get_its_page_and_api_paths_do_not(client):
    for path in ("/contacts/42", "/customers", "/refills?days=7"):
        page = client.get(path)
        assert page.status_code == 200 and page.mimetype == "text/html", path
        assert '<div id="root">' in page.get_data(as_text=True)
    assert client.get("/api/v1/no-such-thing").status_code == 401
    assert client.get("/assets/no-such-file.js").status_code == 404
