"""Merging the services' OpenAPI documents into one: a pure rule of the gateway's docs."""

from gateway.docs import merge_specs


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
