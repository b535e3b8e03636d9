"""Access control: teams see and touch only their own, secrets stay secret, sessions are guarded.

Already covered elsewhere and listed in docs/reliability.md: revocation on the
next request, expiry and the refused token logged without it
(tests/ci/test_tokens.py), feed tokens revoked or unknown answering 404 and
`Referrer-Policy: no-referrer` (tests/feeds/test_http.py), `check --deploy`
with production settings (tests/reliability/test_access.py).
"""

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from deadlines.feeds.services import deadline_feed_create
from scheduling.calendar_feeds.tokens import feed_token_create, feed_token_revoke
from scheduling.models import ApiToken, FeedToken, MaintenanceJob
from scheduling.services.freeze import freeze_schedule
from scheduling.services.standard import standard_change_create
from scheduling.services.submission import maintenance_job_submit
from scheduling.services.tokens import api_token_create
from tests import builders
from tests.builders import at
from tests.personas import as_user
from tests.workflow import job_body

pytestmark = pytest.mark.django_db

FEED_SECRET = "lms-feed-secret-4711"  # the LMS's own token, in the feed's URL


@pytest.fixture
def team_a(org, requester, curriculum_staff, admin):
    """Infra's (and curriculum's) objects, which grading must neither see nor touch."""
    job = builders.job(by=requester, systems=["reports-db"], title="Infra's own job")
    pending = builders.job(by=requester, start=at(12, 8), title="Infra's pending job")
    maintenance_job_submit(job_id=pending.pk, by=requester)
    token, token_secret = api_token_create(
        team=org["infra"], name="infra deploys", scopes=["gate:read", "jobs:write"]
    )
    feed_token, _ = feed_token_create(user=requester, name="Alice's phone")
    deadline = builders.deadline(owner=org["curriculum"], title="Curriculum's deadline")
    feed = deadline_feed_create(
        team=org["curriculum"],
        url=f"https://lms.example.edu/calendar.ics?token={FEED_SECRET}",
        cohort_size=100,
    )
    blackout = builders.blackout(owner=org["platform"], title="Platform's blackout")
    freeze = freeze_schedule(reason="Platform's freeze", start=at(20), end=at(21), by=admin)
    standard = standard_change_create(
        team=org["infra"],
        title="Infra's standard change",
        systems=["reports-db"],
        impact="degraded",
        max_duration=timedelta(hours=1),
        by=requester,
    )
    return {
        "job": job.pk,
        "pending": pending.pk,
        "token": token.pk,
        "token_secret": token_secret,
        "feed_token": feed_token.pk,
        "deadline": deadline.pk,
        "feed": feed.pk,
        "blackout": blackout.pk,
        "freeze": freeze.pk,
        "standard": standard.pk,
    }


@pytest.fixture
def team_b(org, reviewer):
    """Grading: a member's session and the team's CI token."""
    _, secret = api_token_create(
        team=org["grading"], name="grading deploys", scopes=["gate:read", "jobs:write"]
    )
    return {
        "member": as_user(reviewer),
        "ci": APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}"),
    }


@dataclass(frozen=True)
class Try:
    """What team B does to team A's object, and the answers that are allowed."""

    who: str  # "member" (a signed-in member of grading) or "ci" (grading's token)
    url: str  # placeholders name team A's objects
    expect: frozenset[int]
    body: dict = field(default_factory=dict)
    hidden: tuple[str, ...] = ()  # team A's names that must not be in the answer
    multipart: bool = False


@dataclass(frozen=True)
class Shared:
    """Readable by everyone signed in, by design: one calendar for the organisation."""

    why: str


DENIED = frozenset({403, 404})
NOT_FOUND = frozenset({404})
FORBIDDEN = frozenset({403})
OK = frozenset({200})
CALENDAR = Shared("the calendar (jobs, blackouts, deadlines, systems, teams) is for everyone")
CI_READS = Shared("CI answers about systems, not about another team's objects")

# Every operation of the schema, with what team B may do to team A's objects.
ACCESS = {
    ("get", "/api/v1/api-tokens/"): Try("member", "/api/v1/api-tokens/", OK, hidden=("infra",)),
    ("post", "/api/v1/api-tokens/"): Try(
        "member",
        "/api/v1/api-tokens/",
        FORBIDDEN,
        {"name": "x", "team": "infra", "scopes": ["gate:read"]},
    ),
    ("delete", "/api/v1/api-tokens/{id}/"): Try("member", "/api/v1/api-tokens/{token}/", NOT_FOUND),
    ("get", "/api/v1/feed-tokens/"): Try(
        "member", "/api/v1/feed-tokens/", OK, hidden=("Alice's phone",)
    ),
    ("post", "/api/v1/feed-tokens/"): Shared("creates a token of the caller's own"),
    ("patch", "/api/v1/feed-tokens/{id}/"): Try(
        "member", "/api/v1/feed-tokens/{feed_token}/", NOT_FOUND, {"name": "mine now"}
    ),
    ("delete", "/api/v1/feed-tokens/{id}/"): Try(
        "member", "/api/v1/feed-tokens/{feed_token}/", NOT_FOUND
    ),
    ("get", "/api/v1/jobs/"): Try("ci", "/api/v1/jobs/", OK, hidden=("Infra's",)),
    ("post", "/api/v1/jobs/"): Try("member", "/api/v1/jobs/", FORBIDDEN, job_body(team="infra")),
    ("get", "/api/v1/jobs/{id}/"): Try("ci", "/api/v1/jobs/{job}/", NOT_FOUND),
    ("put", "/api/v1/jobs/{id}/"): Try(
        "member", "/api/v1/jobs/{job}/", FORBIDDEN, job_body(team="infra", title="Mine now")
    ),
    ("patch", "/api/v1/jobs/{id}/"): Try(
        "member", "/api/v1/jobs/{job}/", FORBIDDEN, {"title": "Mine now"}
    ),
    ("delete", "/api/v1/jobs/{id}/"): Try("member", "/api/v1/jobs/{job}/", FORBIDDEN),
    ("post", "/api/v1/jobs/{id}/submit/"): Try("member", "/api/v1/jobs/{job}/submit/", FORBIDDEN),
    ("post", "/api/v1/jobs/{id}/cancel/"): Try(
        "member", "/api/v1/jobs/{pending}/cancel/", FORBIDDEN
    ),
    ("post", "/api/v1/jobs/{id}/done/"): Try("ci", "/api/v1/jobs/{pending}/done/", NOT_FOUND),
    ("post", "/api/v1/jobs/{id}/approve/"): Try(
        "member", "/api/v1/jobs/{pending}/approve/", FORBIDDEN, {"team": "infra"}
    ),
    ("post", "/api/v1/jobs/{id}/reject/"): Try(
        "ci", "/api/v1/jobs/{pending}/reject/", NOT_FOUND, {"team": "grading"}
    ),
    ("get", "/api/v1/jobs/{id}/gate/"): Try("ci", "/api/v1/jobs/{job}/gate/", FORBIDDEN),
    ("get", "/api/v1/deadline-feeds/"): Try(
        "member", "/api/v1/deadline-feeds/", OK, hidden=(FEED_SECRET,)
    ),
    ("post", "/api/v1/deadline-feeds/"): Try(
        "member",
        "/api/v1/deadline-feeds/",
        FORBIDDEN,
        {"url": "https://lms.example.edu/x.ics", "team": "curriculum", "cohort_size": 10},
    ),
    ("get", "/api/v1/deadline-feeds/{id}/"): Try(
        "member", "/api/v1/deadline-feeds/{feed}/", OK, hidden=(FEED_SECRET,)
    ),
    ("put", "/api/v1/deadline-feeds/{id}/"): Try(
        "member",
        "/api/v1/deadline-feeds/{feed}/",
        FORBIDDEN,
        {"url": "https://evil.example/x.ics", "team": "curriculum", "cohort_size": 10},
    ),
    ("patch", "/api/v1/deadline-feeds/{id}/"): Try(
        "member", "/api/v1/deadline-feeds/{feed}/", FORBIDDEN, {"enabled": False}
    ),
    ("delete", "/api/v1/deadline-feeds/{id}/"): Try(
        "member", "/api/v1/deadline-feeds/{feed}/", FORBIDDEN
    ),
    ("post", "/api/v1/deadline-feeds/{id}/sync/"): Try(
        "member", "/api/v1/deadline-feeds/{feed}/sync/", FORBIDDEN
    ),
    ("get", "/api/v1/deadlines/"): CALENDAR,
    ("post", "/api/v1/deadlines/"): Try(
        "member",
        "/api/v1/deadlines/",
        FORBIDDEN,
        {
            "title": "x",
            "team": "curriculum",
            "cohort_size": 10,
            "due": "2030-12-12T23:59:00Z",
            "systems": ["grading-api"],
        },
    ),
    ("post", "/api/v1/deadlines/upload/"): Try(
        "member",
        "/api/v1/deadlines/upload/",
        FORBIDDEN,
        {"team": "curriculum"},
        multipart=True,
    ),
    ("get", "/api/v1/deadlines/{id}/"): CALENDAR,
    ("put", "/api/v1/deadlines/{id}/"): Try(
        "member",
        "/api/v1/deadlines/{deadline}/",
        FORBIDDEN,
        {
            "title": "Mine now",
            "team": "curriculum",
            "cohort_size": 10,
            "due": "2030-12-12T23:59:00Z",
            "systems": ["grading-api"],
        },
    ),
    ("patch", "/api/v1/deadlines/{id}/"): Try(
        "member", "/api/v1/deadlines/{deadline}/", FORBIDDEN, {"cohort_size": 1}
    ),
    ("delete", "/api/v1/deadlines/{id}/"): Try(
        "member", "/api/v1/deadlines/{deadline}/", FORBIDDEN
    ),
    ("get", "/api/v1/blackouts/"): CALENDAR,
    ("post", "/api/v1/blackouts/"): Try(
        "member",
        "/api/v1/blackouts/",
        FORBIDDEN,
        {
            "title": "x",
            "team": "platform",
            "start": "2030-12-20T00:00Z",
            "end": "2030-12-21T00:00Z",
        },
    ),
    ("get", "/api/v1/blackouts/{id}/"): CALENDAR,
    ("put", "/api/v1/blackouts/{id}/"): Try(
        "member",
        "/api/v1/blackouts/{blackout}/",
        FORBIDDEN,
        {
            "title": "x",
            "team": "platform",
            "start": "2030-12-20T00:00Z",
            "end": "2030-12-21T00:00Z",
        },
    ),
    ("patch", "/api/v1/blackouts/{id}/"): Try(
        "member", "/api/v1/blackouts/{blackout}/", FORBIDDEN, {"title": "Mine now"}
    ),
    ("delete", "/api/v1/blackouts/{id}/"): Try(
        "member", "/api/v1/blackouts/{blackout}/", FORBIDDEN
    ),
    ("get", "/api/v1/teams/"): CALENDAR,
    ("post", "/api/v1/teams/"): Try(
        "member", "/api/v1/teams/", FORBIDDEN, {"slug": "x", "name": "X"}
    ),
    ("get", "/api/v1/teams/{slug}/"): CALENDAR,
    ("put", "/api/v1/teams/{slug}/"): Try(
        "member", "/api/v1/teams/infra/", FORBIDDEN, {"slug": "infra", "name": "Mine"}
    ),
    ("patch", "/api/v1/teams/{slug}/"): Try(
        "member", "/api/v1/teams/infra/", FORBIDDEN, {"members": ["bob"]}
    ),
    ("delete", "/api/v1/teams/{slug}/"): Try("member", "/api/v1/teams/infra/", FORBIDDEN),
    ("post", "/api/v1/teams/{slug}/webhook-secret/"): Try(
        "member", "/api/v1/teams/infra/webhook-secret", FORBIDDEN
    ),
    ("get", "/api/v1/systems/"): CALENDAR,
    ("post", "/api/v1/systems/"): Try(
        "member", "/api/v1/systems/", FORBIDDEN, {"slug": "x", "name": "X", "team": "infra"}
    ),
    ("get", "/api/v1/systems/{slug}/"): CALENDAR,
    ("put", "/api/v1/systems/{slug}/"): Try(
        "member",
        "/api/v1/systems/grading-db/",
        FORBIDDEN,
        {"slug": "grading-db", "name": "Mine", "team": "grading"},
    ),
    ("patch", "/api/v1/systems/{slug}/"): Try(
        "member", "/api/v1/systems/grading-db/", FORBIDDEN, {"team": "grading"}
    ),
    ("delete", "/api/v1/systems/{slug}/"): Try("member", "/api/v1/systems/grading-db/", FORBIDDEN),
    ("get", "/api/v1/freeze/"): CALENDAR,
    ("put", "/api/v1/freeze/"): Try(
        "member", "/api/v1/freeze/", FORBIDDEN, {"active": True, "reason": "mine"}
    ),
    ("get", "/api/v1/freezes/"): CALENDAR,
    ("get", "/api/v1/freezes/{id}/"): CALENDAR,
    ("post", "/api/v1/freezes/"): Try(
        "member", "/api/v1/freezes/", FORBIDDEN, {"reason": "mine", "start": "2030-12-20T00:00Z"}
    ),
    ("delete", "/api/v1/freezes/{id}/"): Try("member", "/api/v1/freezes/{freeze}/", FORBIDDEN),
    ("get", "/api/v1/standard-changes/"): Shared(
        "a session reads every team's standard changes, like their jobs; a token its own"
    ),
    ("get", "/api/v1/standard-changes/{id}/"): Shared("as the list"),
    ("post", "/api/v1/standard-changes/"): Try(
        "member",
        "/api/v1/standard-changes/",
        FORBIDDEN,
        {
            "team": "infra",
            "title": "Mine",
            "systems": ["reports-db"],
            "impact": "none",
            "max_duration": "PT1H",
        },
    ),
    ("post", "/api/v1/standard-changes/{id}/book/"): Try(
        "member",
        "/api/v1/standard-changes/{standard}/book/",
        FORBIDDEN,
        {"start": "2030-12-20T08:00:00Z"},
    ),
    ("post", "/api/v1/deadlines/preview/"): Try(
        "member",
        "/api/v1/deadlines/preview/",
        FORBIDDEN,
        {
            "title": "x",
            "team": "curriculum",
            "cohort_size": 10,
            "due": "2030-12-12T23:59:00Z",
            "systems": ["grading-api"],
        },
    ),
    ("post", "/api/v1/checks/"): CI_READS,
    ("get", "/api/v1/state/"): CI_READS,
    ("get", "/api/v1/slots/"): CI_READS,
    ("get", "/api/v1/ping/"): Shared("a constant answer"),
    # Runs: only the job's own team reports them (infra's job is on reports-db,
    # which grading neither owns nor depends on, so grading cannot ask a stop).
    ("post", "/api/v1/jobs/{id}/runs/"): Try("member", "/api/v1/jobs/{job}/runs/", FORBIDDEN),
    ("get", "/api/v1/jobs/{id}/runs/"): Try("member", "/api/v1/jobs/{job}/runs/", FORBIDDEN),
    ("post", "/api/v1/jobs/{id}/runs/{run}/heartbeat/"): Try(
        "member", "/api/v1/jobs/{job}/runs/1/heartbeat/", FORBIDDEN
    ),
    ("post", "/api/v1/jobs/{id}/runs/{run}/finish/"): Try(
        "member", "/api/v1/jobs/{job}/runs/1/finish/", FORBIDDEN, {"outcome": "failed"}
    ),
    ("post", "/api/v1/jobs/{id}/runs/{run}/stop/"): Try(
        "member", "/api/v1/jobs/{job}/runs/1/stop/", DENIED, {"reason": "mine"}
    ),
    # Monitoring connections hold passwords: administrators only.
    ("get", "/api/v1/systems/{slug}/monitor/"): Try(
        "member", "/api/v1/systems/reports-db/monitor/", FORBIDDEN
    ),
    ("put", "/api/v1/systems/{slug}/monitor/"): Try(
        "member",
        "/api/v1/systems/reports-db/monitor/",
        FORBIDDEN,
        {"dsn": "postgresql://x@127.0.0.1/y"},
    ),
    ("delete", "/api/v1/systems/{slug}/monitor/"): Try(
        "member", "/api/v1/systems/reports-db/monitor/", FORBIDDEN
    ),
    ("get", "/api/v1/observations/"): Shared(
        "what the monitors saw on the organisation's systems, like the calendar"
    ),
}


def schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method, path)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_every_api_operation_is_classified_for_cross_team_access():
    """Pass: the table below covers exactly the schema's operations, so a new endpoint
    fails here until someone decides what another team may do with it."""
    assert set(ACCESS) == schema_operations()


@pytest.mark.parametrize(
    "operation", [op for op, rule in ACCESS.items() if isinstance(rule, Try)], ids=" ".join
)
def test_another_team_gets_403_or_404_on_a_teams_objects_and_none_in_lists(
    operation, team_a, team_b
):
    """Pass: grading (a member's session, or its CI token) gets the documented 403/404
    on infra's and curriculum's objects, and their lists name none of them;
    nothing changed."""
    rule: Try = ACCESS[operation]
    method, _ = operation
    client = team_b[rule.who]
    url = rule.url.format(**team_a)
    before = _state()
    body = rule.body
    if rule.multipart:
        body = {**body, "file": SimpleUploadedFile("d.csv", b"title,due\nx,2030-12-12\n")}

    response = getattr(client, method)(url, body, format="multipart" if rule.multipart else "json")

    assert response.status_code in rule.expect, (url, response.status_code, response.content)
    text = response.content.decode()
    for name in rule.hidden:
        assert name not in text, f"{name!r} leaked into {url}"
    assert team_a["token_secret"] not in text
    assert _state() == before


def _state() -> tuple:
    """What the attempts above could change."""
    return (
        list(MaintenanceJob.objects.order_by("pk").values_list("pk", "title", "status", "team")),
        list(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at")),
        list(FeedToken.objects.order_by("pk").values_list("pk", "name", "revoked_at")),
    )


def test_a_reviewer_cannot_approve_a_job_of_their_own_team(org, reviewer):
    """Pass: grading's job on infra's grading-db waits for infra; a grading member
    approving as grading, or as infra while also in infra, gets 403; still pending."""
    own = builders.job(by=reviewer, owner=org["grading"], start=at(12, 8))
    maintenance_job_submit(job_id=own.pk, by=reviewer)
    both = builders.user("gina", team=org["grading"])
    org["infra"].members.add(both)

    attempts = [(reviewer, "grading"), (both, "grading"), (both, "infra")]
    answers = [
        as_user(person).post(f"/api/v1/jobs/{own.pk}/approve", {"team": team}, format="json")
        for person, team in attempts
    ]

    assert [a.status_code for a in answers] == [403, 403, 403]
    own.refresh_from_db()
    assert own.status == "pending"
    assert list(own.reviews.values_list("team__slug", "status")) == [("infra", "pending")]


# --- secrets ---------------------------------------------------------------------


def test_no_plaintext_token_anywhere_in_the_database(requester, org):
    """Pass: after creating an API token and a feed token through the API (and using
    them), no text in any table holds either secret, or its part after the prefix."""
    client = as_user(requester)
    api = client.post(
        "/api/v1/api-tokens", {"name": "ci", "team": "infra", "scopes": ["gate:read"]}
    ).json()["token"]
    feed = client.post("/api/v1/feed-tokens", {"name": "phone"}).json()["token"]
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {api}").get("/api/v1/ping").status_code == 200
    assert APIClient().get(f"/calendar/{feed}/all.ics").status_code == 200

    found = [
        (table, secret)
        for table, text in _every_table_as_text()
        for secret in (api, feed, api.split("_", 1)[1], feed.split("_", 1)[1])
        if secret in text
    ]

    assert found == []


def _every_table_as_text():
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")
            yield table, repr(cursor.fetchall())


def test_feed_tokens_never_reach_the_logs(requester, org, caplog):
    """Pass: fetching a feed with a live, an unknown and a revoked token logs nothing
    that contains the token (Django's 'Not Found: <path>' stays below the level
    config/settings.py gives django.request)."""
    caplog.set_level(logging.DEBUG)
    token, secret = feed_token_create(user=requester, name="phone")
    unknown = "cwf_" + secrets.token_urlsafe(32)

    assert APIClient().get(f"/calendar/{secret}/all.ics").status_code == 200
    assert APIClient().get(f"/calendar/{unknown}/all.ics").status_code == 404
    feed_token_revoke(token_id=token.pk, user=requester)
    assert APIClient().get(f"/calendar/{secret}/maintenance.ics").status_code == 404

    logged = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert secret not in logged
    assert unknown not in logged


# --- sign-in and sessions ---------------------------------------------------------


def sign_in(client, password: str, address: str = "10.0.0.7"):
    return client.post(
        "/accounts/login/", {"username": "alice", "password": password}, REMOTE_ADDR=address
    )


def test_the_sixth_failed_sign_in_is_429_and_even_the_right_password_waits(requester, client):
    """Pass: 5 wrong passwords are 200 (the form again), the 6th attempt is 429 with
    Retry-After, and so is the right password within the window; another address
    still signs in."""
    answers = [sign_in(client, "wrong").status_code for _ in range(5)]

    locked = sign_in(client, "wrong")
    right = sign_in(client, "pw")

    assert answers == [200] * 5
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert sign_in(client, "pw", address="10.0.0.8").status_code == 302


def writes() -> list[tuple[str, str]]:
    return sorted((m, p) for m, p in schema_operations() if m in {"post", "put", "patch", "delete"})


@pytest.mark.parametrize("operation", writes(), ids=" ".join)
def test_a_session_write_without_the_csrf_token_is_403(operation, admin, team_a):
    """Pass: every write of the API, from a signed-in session (an administrator's, so
    nothing else refuses it) without the CSRF token, is a 403 that names CSRF."""
    method, path = operation
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(admin)
    url = (
        path.replace("{id}", "1")
        .replace("{run}", "1")
        .replace("{slug}", "grading-db")
        .replace("/api-tokens/1/", f"/api-tokens/{team_a['token']}/")
    )

    response = getattr(client, method)(url, {}, format="json")

    assert response.status_code == 403, (url, response.status_code)
    assert "CSRF" in response.json()["message"]


def test_a_session_write_with_the_csrf_token_passes_the_check(requester):
    """The counterpart: the same session with its CSRF token books the job."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(requester)
    csrf = secrets.token_hex(16)
    client.cookies["csrftoken"] = csrf

    response = client.post("/api/v1/jobs", job_body(), format="json", HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == 201, response.json()
