"""The whole API under schemathesis, against gunicorn: no 5xx, answers match the schema.

Two passes over the schema served at /api/schema/, a bounded number of
examples per operation:

1. as a CI pipeline, with infra's token (gate:read, jobs:write), every phase
   (examples, coverage, fuzzing, stateful), adding the check that an
   operation refuses the request once its auth is removed or broken
   (`ignored_auth`);
2. as an administrator's browser session (with its CSRF token), which reaches
   the endpoints tokens may not use (teams, systems, blackouts, the freeze,
   API and feed tokens): examples, fuzzing and stateful. The coverage phase,
   some 6,000 requests whoever sends them, runs once, in the first pass.

Excluded checks: `positive_data_acceptance` and `negative_data_rejection`
judge the request side (the schema cannot say that a team must exist or that
an end follows its start), not the answers.

PostgreSQL only: the server is a separate process on the test database, as in
production; PostgreSQL is also where more inputs can fail (NUL characters,
UTC offsets beyond +-15:59). The 500s this found are fixed where they arose,
each with a comment; docs/reliability.md lists them.
"""

import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from scheduling.services.submission import maintenance_job_submit
from tests import builders
from tests.builders import at
from tests.ci.clients import token_for
from tests.reliability.conftest import gunicorn, postgres_only

ST = Path(sys.executable).parent / "st"
EXAMPLES = 5
REQUEST_SIDE = "positive_data_acceptance,negative_data_rejection"

pytestmark = [
    pytest.mark.slow,
    postgres_only,
    pytest.mark.skipif(not ST.exists(), reason="schemathesis is not installed (dev extra)"),
]


def schemathesis(url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(ST),
            "run",
            f"{url}/api/schema/",
            "--workers",
            "4",
            "--seed",
            "8",
            "--generation-database",
            "none",
            "--no-color",
            *args,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def failures(done: subprocess.CompletedProcess) -> str:
    return done.stdout[-8000:] + done.stderr[-2000:]


@pytest.fixture
def app(transactional_db):
    """Clearway in gunicorn on the test database, with something in every calendar.

    No throttle (thousands of requests a minute from one token), and no
    request-line limit: gunicorn's own 414 is not the application's answer.
    """
    infra = builders.team("infra")
    grading = builders.team("grading")
    platform = builders.team("platform")
    builders.system("grading-db", owner=infra)
    builders.system("grading-api", owner=grading, depends_on=["grading-db"])
    alice = builders.user("alice", team=infra)
    job = builders.job(by=alice, start=at(10, 8))
    maintenance_job_submit(job_id=job.pk, by=alice)
    builders.blackout(systems=["grading-api"], start=at(20), owner=platform)
    builders.deadline(systems=["grading-api"], owner=grading)
    with gunicorn(
        threads=8, options=("--limit-request-line", "0"), CLEARWAY_API_RATE="1000000/min"
    ) as server:
        yield {
            "url": server.url,
            "infra": infra,
            "admin": builders.user("pat", team=platform, staff=True),
        }


def test_the_api_answers_no_5xx_conforms_and_rejects_missing_auth(app, tmp_path):
    """Pass: both passes exit 0: no 5xx; statuses, content types, headers and bodies as
    documented; no operation accepts a request without valid auth."""
    secret = token_for(app["infra"], "gate:read", "jobs:write")
    browser = Client()
    browser.force_login(app["admin"])
    session = browser.cookies["sessionid"].value
    csrf = secrets.token_hex(16)  # an unmasked 32-character secret, as in the cookie

    as_ci = schemathesis(
        app["url"],
        "-H",
        f"Authorization: Bearer {secret}",
        "--max-examples",
        str(EXAMPLES),
        "--checks",
        "all",
        "--exclude-checks",
        REQUEST_SIDE,
        cwd=tmp_path,
    )
    assert as_ci.returncode == 0, failures(as_ci)

    # After the token pass: the stateful phase here may revoke that token.
    as_admin = schemathesis(
        app["url"],
        "-H",
        f"Cookie: sessionid={session}; csrftoken={csrf}",
        "-H",
        f"X-CSRFToken: {csrf}",
        # Not the bearer scheme's: the session cookie is what authenticates.
        "--generation-with-security-parameters",
        "false",
        "--phases",
        "examples,fuzzing,stateful",
        "--max-examples",
        str(EXAMPLES * 2),
        "--checks",
        "all",
        "--exclude-checks",
        # ensure_resource_availability takes any 404 under a path just created
        # by a POST for a lost resource: a new system's monitor connection is
        # an optional sub-resource that is 404 until someone PUTs it
        # (tests/operations cover that answer; tests/api that created systems
        # and jobs are read back).
        f"{REQUEST_SIDE},ignored_auth,ensure_resource_availability",
        cwd=tmp_path,
    )
    assert as_admin.returncode == 0, failures(as_admin)
