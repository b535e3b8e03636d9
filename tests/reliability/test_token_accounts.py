"""Low: API tokens belong to their team's id, not its slug.

After a team is renamed and its old slug reused by a new team, the two
teams' CI tokens are two accounts: neither acts for the other team.
"""

import pytest

from scheduling.models import ApiToken, MaintenanceJob
from scheduling.services.catalogue import team_update
from tests import builders
from tests.ci.clients import bearer, token_for
from tests.workflow import job_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def reused_slug(org):
    """infra's old token; infra renamed to infra-legacy; a new team takes 'infra'."""
    old_secret = token_for(org["infra"], "jobs:write", "gate:read", name="old pipeline")
    legacy = team_update(team=org["infra"], slug="infra-legacy")
    newcomer = builders.team("infra", name="New infra")
    builders.system("new-db", owner=newcomer)
    new_secret = token_for(newcomer, "jobs:write", "gate:read", name="new pipeline")
    return {"legacy": legacy, "new": newcomer, "old_secret": old_secret, "new_secret": new_secret}


def test_the_two_teams_tokens_act_as_two_accounts(reused_slug):
    old, new = ApiToken.objects.order_by("pk")

    assert old.user_id != new.user_id
    assert not reused_slug["new"].members.filter(pk=old.user_id).exists()
    assert not reused_slug["legacy"].members.filter(pk=new.user_id).exists()


def test_the_old_token_cannot_book_for_the_team_that_took_its_slug(reused_slug):
    answer = bearer(reused_slug["old_secret"]).post(
        "/api/v1/jobs", job_body(team="infra", systems=["new-db"]), format="json"
    )

    assert answer.status_code == 403, answer.json()
    assert not MaintenanceJob.objects.exists()


def test_the_new_token_cannot_see_the_renamed_teams_jobs(reused_slug, requester):
    builders.job(by=requester, owner=reused_slug["legacy"], systems=["reports-db"])

    answer = bearer(reused_slug["new_secret"]).get("/api/v1/jobs")

    assert answer.json()["results"] == []
