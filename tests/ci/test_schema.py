"""The OpenAPI schema validates, lists every endpoint, and the docs work offline."""

import re

import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client

from tests import builders

PATHS = {
    "/api/v1/jobs/{id}/gate/",
    "/api/v1/state/",
    "/api/v1/checks/",
    "/api/v1/slots/",
    "/api/v1/jobs/",
    "/api/v1/jobs/{id}/",
    "/api/v1/jobs/{id}/submit/",
    "/api/v1/jobs/{id}/approve/",
    "/api/v1/jobs/{id}/reject/",
    "/api/v1/jobs/{id}/cancel/",
    "/api/v1/teams/",
    "/api/v1/teams/{slug}/",
    "/api/v1/systems/",
    "/api/v1/systems/{slug}/",
    "/api/v1/blackouts/",
    "/api/v1/blackouts/{id}/",
    "/api/v1/deadlines/",
    "/api/v1/deadlines/{id}/",
    "/api/v1/freeze/",
    "/api/v1/api-tokens/",
    "/api/v1/api-tokens/{id}/",
}
CI_OPERATIONS = [
    ("/api/v1/jobs/{id}/gate/", "get"),
    ("/api/v1/state/", "get"),
    ("/api/v1/checks/", "post"),
    ("/api/v1/slots/", "get"),
]


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    """The schema as `manage.py spectacular --validate --fail-on-warn` writes it."""
    target = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    return yaml.safe_load(target.read_text())


def test_the_schema_validates_without_warnings_and_lists_every_endpoint(schema):
    assert set(schema["paths"]) >= PATHS


def test_every_resource_of_the_api_router_is_in_the_schema(schema):
    """Deadline feeds and feed tokens too, once their work registers them."""
    from config.api import router

    prefixes = {prefix for prefix, _, _ in router.registry}

    assert prefixes <= {path.split("/")[3] for path in schema["paths"]}


def test_the_ci_endpoints_document_the_bearer_token_and_their_errors(schema):
    scheme = schema["components"]["securitySchemes"]["bearerToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, method in CI_OPERATIONS:
        operation = schema["paths"][path][method]
        assert {"bearerToken": []} in operation["security"], path
        assert {"401", "403", "429"} <= set(operation["responses"]), path


def test_the_gate_documents_its_423_and_the_shape_of_a_reason(schema):
    responses = schema["paths"]["/api/v1/jobs/{id}/gate/"]["get"]["responses"]

    assert {"200", "423", "404"} <= set(responses)
    gate = schema["components"]["schemas"]["Gate"]["properties"]
    assert set(gate) == {
        "allowed",
        "job",
        "status",
        "change_type",
        "at",
        "window",
        "closes_at",
        "next_window",
        "reasons",
    }
    reason = schema["components"]["schemas"]["Reason"]["properties"]
    assert {"code", "message", "until"} <= set(reason)


@pytest.mark.parametrize("path", ["/api/v1/state/", "/api/v1/slots/", "/api/v1/jobs/{id}/gate/"])
def test_the_ci_gets_document_their_400(schema, path):
    assert "400" in schema["paths"][path]["get"]["responses"]


def test_state_and_slots_document_their_required_parameters(schema):
    def required(path):
        parameters = schema["paths"][path]["get"]["parameters"]
        return {p["name"] for p in parameters if p.get("required")}

    assert required("/api/v1/state/") == {"systems"}
    assert required("/api/v1/slots/") == {"systems", "duration"}


@pytest.mark.django_db
def test_the_schema_and_the_docs_answer_a_signed_in_person():
    browser = Client()
    browser.force_login(builders.user("reader"))

    assert browser.get("/api/schema/").status_code == 200
    assert browser.get("/api/docs/").status_code == 200


@pytest.mark.django_db
def test_the_docs_page_uses_only_local_static_files():
    browser = Client()
    browser.force_login(builders.user("reader"))

    html = browser.get("/api/docs/").content.decode()

    assert not re.search(r"https?://|//cdn|unpkg|jsdelivr", html)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        if asset.startswith("/api/docs/?script"):
            continue  # Swagger UI's start-up script, served by Clearway (no inline script: CSP)
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset


def test_every_api_write_documents_the_idempotency_key_and_its_409_and_422(schema):
    writes = [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in {"post", "put", "patch", "delete"}
    ]

    assert writes
    for path, method, operation in writes:
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, (path, method)
        assert {"409", "422"} <= set(operation["responses"]), (path, method)
    assert (
        "Idempotency-Key"
        in schema["paths"]["/api/v1/jobs/{id}/submit/"]["post"]["responses"]["409"]["description"]
    )


def test_reads_do_not_offer_an_idempotency_key(schema):
    jobs = schema["paths"]["/api/v1/jobs/"]["get"]

    assert "Idempotency-Key" not in {p["name"] for p in jobs.get("parameters", [])}
