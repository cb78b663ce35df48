"""The gateway serves the event contract as AsyncAPI 3.0, without a token, valid against the spec."""

import json
from pathlib import Path

import jsonschema

from shared.asyncapi import asyncapi_document

FIXTURE = Path(__file__).resolve().parents[2] / "shared" / "tests" / "fixtures" / "asyncapi-3.0.0.schema.json"


def test_asyncapi_document_is_public_and_valid(client):
    response = client.get("/api/v1/asyncapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.json
    assert document == json.loads(json.dumps(asyncapi_document()))
    jsonschema.Draft7Validator(json.loads(FIXTURE.read_text())).validate(document)
    assert document["channels"]["bill.created"]["bindings"]["amqp"]["exchange"]["name"] == "pharmacy.events"


def test_the_docs_page_links_the_event_contract(client):
    assert "/api/v1/asyncapi.json" in client.get("/api/v1/docs").get_data(as_text=True)
