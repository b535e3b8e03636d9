"""Unknown /api/ paths answer the JSON 404, under DEBUG (make run) as in production."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", ["/api/nothing", "/api/v1/nothing/", "/api/v1/jobs/abc/gate"])
def test_an_unknown_api_path_is_a_json_404(settings, debug, path):
    settings.DEBUG = debug

    answer = Client().get(path)

    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"
    assert answer.json() == {"code": "not_found", "message": "Not found."}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_any_method_on_an_unknown_api_path_is_a_json_404_not_a_csrf_page(settings, method):
    settings.DEBUG = True

    answer = getattr(Client(enforce_csrf_checks=True), method)("/api/v1/nothing")

    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_the_api_docs_without_a_slash_still_redirect(settings):
    settings.DEBUG = True

    assert Client().get("/api/docs").status_code == 301
