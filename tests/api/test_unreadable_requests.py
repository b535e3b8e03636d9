"""A request Django refuses before it reaches an API answer is still the JSON error shape."""

import pytest
from django.test import Client

from tests.personas import as_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
def test_a_body_past_the_upload_limit_is_a_json_413(admin, settings, debug):
    settings.DEBUG = debug
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"slug": "big-team", "name": "a" * 5000}

    answer = as_user(admin).post("/api/v1/teams", body, format="json")

    assert answer.status_code == 413
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"code": "too_large", "message": "The request's body is too large."}


def test_a_form_with_too_many_fields_is_a_json_413(admin, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    fields = {f"field{n}": "x" for n in range(20)}

    answer = as_user(admin).post("/api/v1/teams", fields)

    assert answer.status_code == 413
    assert answer.json()["code"] == "too_large"


def test_an_api_request_for_an_unknown_host_is_a_json_400(settings):
    settings.DEBUG = False

    answer = Client(raise_request_exception=False).get("/api/v1/ping", HTTP_HOST="evil.example")

    assert answer.status_code == 400
    assert answer.json() == {"code": "invalid", "message": "The request could not be read."}


def test_a_page_for_an_unknown_host_is_still_the_html_400(settings):
    settings.DEBUG = False

    answer = Client(raise_request_exception=False).get("/", HTTP_HOST="evil.example")

    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("text/html")
