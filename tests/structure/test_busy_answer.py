"""A busy database gets one answer from the API's exception handler and from
the middleware in front of the pages: the same JSON body and Retry-After."""

import pytest
from django.db import OperationalError, connection

from tests import builders

pytestmark = pytest.mark.django_db


def locked_jobs_table(execute, sql, params, many, context):
    if "scheduling_maintenancejob" in sql:
        raise OperationalError("database is locked")
    return execute(sql, params, many, context)


def busy(client, path: str, **headers):
    with connection.execute_wrapper(locked_jobs_table):
        return client.get(path, headers=headers)


def test_a_page_asked_for_json_and_the_api_answer_a_busy_database_alike(grading_stack, client):
    client.force_login(builders.user(team=grading_stack["infra"]))

    api = busy(client, "/api/v1/jobs")
    page = busy(client, "/jobs/", Accept="application/json")

    assert api.status_code == page.status_code == 503
    assert api.json() == page.json()
    assert api["Retry-After"] == page["Retry-After"] != ""


def test_a_page_says_the_same_sentence_in_plain_text(grading_stack, client):
    client.force_login(builders.user(team=grading_stack["infra"]))

    api = busy(client, "/api/v1/jobs")
    page = busy(client, "/jobs/")

    assert page["Content-Type"].startswith("text/plain")
    assert page.content.decode() == api.json()["message"]
