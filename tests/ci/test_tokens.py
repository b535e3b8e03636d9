"""Team API tokens: shown once, stored as a digest, scoped, revocable; sessions still work.

The clock starts at 2030-12-01 09:00 UTC (tests.personas.clock).
"""

import hashlib
import io
import logging
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from scheduling.models import ApiToken, JobEvent
from tests import builders
from tests.builders import at
from tests.ci.clients import bearer, token_for
from tests.personas import as_user
from tests.workflow import approved_job, job_body

pytestmark = pytest.mark.django_db

STATE = "/api/v1/state?systems=grading-db"


def signed_in(person) -> APIClient:
    """A browser session, through the login the web UI uses."""
    client = APIClient()
    assert client.login(username=person.get_username(), password="pw")
    return client


def create(client, **overrides):
    body = {"name": "deploy pipeline", "team": "infra", "scopes": ["gate:read"], **overrides}
    return client.post("/api/v1/api-tokens", body, format="json")


# --- creating, listing, revoking ----------------------------------------------


def test_creating_a_token_answers_its_secret_once(requester, clock):
    client = signed_in(requester)

    created = create(client, scopes=["gate:read", "jobs:write"])
    listed = client.get("/api/v1/api-tokens")

    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith("cw_")
    assert (body["name"], body["team"], body["scopes"]) == (
        "deploy pipeline",
        "infra",
        ["gate:read", "jobs:write"],
    )
    assert (body["expires"], body["last_used"]) == (None, None)
    [row] = listed.json()["results"]
    assert row["id"] == body["id"]
    assert "token" not in row
    assert body["token"] not in listed.content.decode()


def test_a_token_is_stored_as_its_digest_only(requester, clock):
    secret = create(signed_in(requester)).json()["token"]

    [row] = ApiToken.objects.values()

    assert row["digest"] == hashlib.sha256(secret.encode()).hexdigest()
    assert not any(secret in str(value) for value in row.values())


def test_the_secret_created_through_the_api_works_on_the_gate_endpoints(requester, clock):
    secret = create(signed_in(requester)).json()["token"]

    assert bearer(secret).get(STATE).status_code == 200


def test_only_members_of_a_team_create_its_tokens(reviewer, clock):
    response = create(signed_in(reviewer), team="infra")

    assert response.status_code == 403
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"scopes": ["admin"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"name": ""}, "name"),
        ({"team": "nobody"}, "team"),
        ({"expires": "2030-11-30T09:00:00Z"}, "expires"),
    ],
)
def test_an_invalid_token_is_a_400_on_its_field(requester, clock, overrides, field):
    response = create(signed_in(requester), **overrides)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_members_list_only_their_teams_tokens(org, requester, reviewer, clock):
    token_for(org["infra"], name="infra deploys")
    token_for(org["grading"], name="grading deploys")

    listed = signed_in(reviewer).get("/api/v1/api-tokens").json()["results"]

    assert [(t["team"], t["name"]) for t in listed] == [("grading", "grading deploys")]


def test_a_revoked_token_is_refused_on_the_next_request(requester, clock):
    client = signed_in(requester)
    created = create(client).json()
    ci = bearer(created["token"])
    assert ci.get(STATE).status_code == 200

    revoked = client.delete(f"/api/v1/api-tokens/{created['id']}")

    assert revoked.status_code == 204
    assert ci.get(STATE).status_code == 401
    assert client.get("/api/v1/api-tokens").json()["results"] == []


def test_another_teams_token_cannot_be_revoked(org, reviewer, clock):
    secret = token_for(org["infra"])
    token = ApiToken.objects.get()

    response = signed_in(reviewer).delete(f"/api/v1/api-tokens/{token.pk}")

    assert response.status_code == 404
    assert bearer(secret).get(STATE).status_code == 200


def test_revoking_a_token_that_is_not_a_number_is_a_404(requester, clock):
    response = signed_in(requester).delete("/api/v1/api-tokens/abc")

    assert response.status_code == 404


def test_revoking_a_token_id_of_thousands_of_digits_is_a_404(requester, clock):
    # int() refuses more than 4,300 digits: the revocation answered 500.
    response = signed_in(requester).delete("/api/v1/api-tokens/" + "9" * 5000)

    assert response.status_code == 404


# --- authentication -----------------------------------------------------------


def test_a_ci_endpoint_without_a_token_is_a_401_that_asks_for_a_bearer_token(org):
    response = APIClient().get(STATE)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="clearway"'
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("header", ["Bearer cw_unknown", "Bearer ", "Bearer", "bearer cw_nope"])
def test_an_unknown_token_is_a_401(org, header):
    response = APIClient(HTTP_AUTHORIZATION=header).get(STATE)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="clearway"'


def test_an_expired_token_is_a_401(org, clock):
    ci = bearer(token_for(org["infra"], expires=at(2, 9)))
    assert ci.get(STATE).status_code == 200

    clock.move_to(at(2, 9))

    assert ci.get(STATE).status_code == 401


def test_last_used_is_recorded(org, clock):
    ci = bearer(token_for(org["infra"]))
    clock.move_to(at(1, 10))

    ci.get(STATE)

    assert ApiToken.objects.get().last_used == at(1, 10)


def test_a_refused_token_is_logged_without_the_token(org, caplog):
    caplog.set_level(logging.WARNING, logger="clearway.auth")

    bearer("cw_not-a-real-secret").get(STATE)

    assert "rejected API token" in caplog.text
    assert "/api/v1/state" in caplog.text
    assert "cw_not-a-real-secret" not in caplog.text


def test_sessions_work_on_the_ci_endpoints(requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 9))
    browser = signed_in(requester)

    assert browser.get(f"/api/v1/jobs/{job.pk}/gate").status_code == 200
    assert browser.get(STATE).status_code == 200
    assert browser.get("/api/v1/slots?systems=grading-db&duration=PT1H").status_code == 200
    checks = browser.post(
        "/api/v1/checks",
        {"systems": ["grading-db"], "start": "2030-12-20T08:00Z", "end": "2030-12-20T09:00Z"},
        format="json",
    )
    assert checks.status_code == 200


# --- scopes and teams ---------------------------------------------------------


def test_a_jobs_write_token_cannot_read_the_gate(org, requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    ci = bearer(token_for(org["infra"], "jobs:write"))

    response = ci.get(f"/api/v1/jobs/{job.pk}/gate")

    assert response.status_code == 403
    assert "gate:read" in response.json()["message"]


def test_a_gate_read_token_cannot_book_a_job(ci, clock):
    response = ci.post("/api/v1/jobs", job_body(), format="json")

    assert response.status_code == 403
    assert "jobs:write" in response.json()["message"]


def test_a_token_cannot_open_another_teams_gate(org, requester, reviewer, clock):
    job = approved_job(requester=requester, reviewer=reviewer)
    grading = bearer(token_for(org["grading"]))
    clock.move_to(at(10, 9))

    response = grading.get(f"/api/v1/jobs/{job.pk}/gate")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize("path", ["/api/v1/teams", "/api/v1/api-tokens"])
def test_tokens_cannot_use_the_people_endpoints(org, path):
    ci = bearer(token_for(org["infra"], "gate:read", "jobs:write"))

    response = ci.get(path)

    assert response.status_code == 403
    message = response.json()["message"]
    assert message.startswith("API tokens cannot use this endpoint: no scope allows it.")
    assert "signed-in session" in message and "X-CSRFToken" in message


def test_a_token_on_a_method_only_sessions_may_use_names_what_tokens_may_do(org):
    ci = bearer(token_for(org["infra"], "gate:read", "jobs:write"))

    response = ci.delete("/api/v1/jobs/1")

    assert response.status_code == 403
    message = response.json()["message"]
    assert "GET with 'gate:read'" in message and "POST with 'jobs:write'" in message
    assert "sign in and use a session to DELETE it" in message


def test_a_token_cannot_create_tokens(org):
    ci = bearer(token_for(org["infra"], "gate:read", "jobs:write"))

    response = create(ci)

    assert response.status_code == 403
    assert ApiToken.objects.count() == 1


def test_a_jobs_write_token_books_and_submits_for_its_team_as_the_ci_account(org, clock):
    ci = bearer(token_for(org["infra"], "jobs:write", "gate:read"))

    booked = ci.post("/api/v1/jobs", job_body(systems=["reports-db"]), format="json")
    submitted = ci.post(f"/api/v1/jobs/{booked.json()['id']}/submit", {}, format="json")

    assert booked.status_code == 201, booked.json()
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "approved"  # nobody else owns reports-db
    actors = set(
        JobEvent.objects.filter(job_id=booked.json()["id"]).values_list(
            "actor__username", flat=True
        )
    )
    ci_account = f"ci-{org['infra'].pk}@infra"  # by the team's id, then its slug
    assert actors == {ci_account}
    assert {e["actor"] for e in submitted.json()["history"]} == {ci_account}


def test_a_jobs_write_token_cannot_book_for_another_team(org, clock):
    ci = bearer(token_for(org["infra"], "jobs:write"))

    response = ci.post("/api/v1/jobs", job_body(team="grading"), format="json")

    assert response.status_code == 403


# --- manage.py create_token ---------------------------------------------------


def test_create_token_prints_a_token_that_works(org, clock):
    out = io.StringIO()

    call_command("create_token", "infra", "nightly reindex", "--days", "30", stdout=out)

    secret = out.getvalue().strip()
    assert bearer(secret).get(STATE).status_code == 200
    token = ApiToken.objects.get()
    assert (token.name, token.scopes) == ("nightly reindex", ["gate:read"])
    assert token.expires == at(1, 9) + timedelta(days=30)


def test_create_token_refuses_an_unknown_team(org):
    with pytest.raises(CommandError, match="no team 'nobody'"):
        call_command("create_token", "nobody", "deploys", stdout=io.StringIO())


@pytest.mark.django_db
def test_create_token_refuses_zero_days():
    builders.team("infra")

    with pytest.raises(CommandError, match="--days"):
        call_command("create_token", "infra", "deploy", "--days", "0", stdout=io.StringIO())


def test_create_token_refuses_a_century_of_days_with_a_message(org):
    with pytest.raises(CommandError, match="--days must be at most"):
        call_command(
            "create_token", "infra", "deploy", "--days", "99999999999", stdout=io.StringIO()
        )


def test_create_token_refuses_a_name_past_its_length(org):
    with pytest.raises(CommandError, match="100 characters"):
        call_command("create_token", "infra", "x" * 500, stdout=io.StringIO())


def test_editing_a_teams_members_keeps_its_tokens_working(org, requester, admin, clock):
    client = bearer(token_for(org["infra"], "gate:read", "jobs:write"))
    assert client.post("/api/v1/jobs", job_body(), format="json").status_code == 201

    edited = as_user(admin).patch("/api/v1/teams/infra", {"members": ["alice"]}, format="json")
    booked = client.post(
        "/api/v1/jobs",
        job_body(start="2030-12-11T08:00:00Z", end="2030-12-11T10:00:00Z"),
        format="json",
    )

    assert edited.status_code == 200, edited.json()
    assert booked.status_code == 201, booked.json()
