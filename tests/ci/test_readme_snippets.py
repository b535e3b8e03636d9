"""The README's GitHub Actions and GitLab snippets, run as written against a live server.

Their shell is taken from the README itself, so the two cannot drift. Every
error answer must reach the pipeline's log: the 423's `reasons`, or the
`message` of a 401, 404 or 429 (those have no `reasons`, and `jq` used to stop
with "Cannot iterate over null", hiding the cause).
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from scheduling.api.throttles import TokenRateThrottle
from tests.builders import at
from tests.ci.clients import token_for
from tests.workflow import approved_job, pending_job

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not all(shutil.which(tool) for tool in ("bash", "curl", "jq")),
        reason="the snippets need bash, curl and jq",
    ),
]


def _yaml_after(heading: str) -> dict:
    text = README.read_text()
    block = re.search(rf"^{re.escape(heading)}\n\n```yaml\n(.*?)```", text, re.S | re.M)
    assert block, f"no yaml block after {heading!r} in the README"
    return yaml.safe_load(block.group(1))


def github_shell() -> str:
    [job] = _yaml_after("GitHub Actions:")["jobs"].values()
    return job["steps"][0]["run"]


def gitlab_shell() -> str:
    [job] = _yaml_after("GitLab CI:").values()
    return next(line for line in job["before_script"] if "status=$(curl" in line)


# The shell each runs its script with: GitHub's default for `run`, GitLab's POSIX sh.
SNIPPETS = {
    "github": (github_shell, ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]),
    "gitlab": (gitlab_shell, ["sh", "-e", "-c"]),
}


def run(snippet: str, *, url: str, token: str, job_id: int, tmp_path: Path):
    extract, command = SNIPPETS[snippet]
    shell = extract().replace("/jobs/42/", f"/jobs/{job_id}/")
    return subprocess.run(
        [*command, shell],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "CLEARWAY_URL": url, "CLEARWAY_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def server(live_server, clock):
    return live_server.url


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_an_open_gate_lets_the_pipeline_go_on(
    snippet, server, org, requester, reviewer, clock, tmp_path
):
    job = approved_job(requester=requester, reviewer=reviewer)
    clock.move_to(at(10, 9))  # inside 08:00-12:00

    done = run(snippet, url=server, token=token_for(org["infra"]), job_id=job.pk, tmp_path=tmp_path)

    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_a_closed_gate_prints_its_reasons(snippet, server, org, requester, tmp_path):
    job = pending_job(requester=requester)

    done = run(snippet, url=server, token=token_for(org["infra"]), job_id=job.pk, tmp_path=tmp_path)

    assert done.returncode == 1
    assert "HTTP 423" in done.stdout
    assert re.search(r"^- \w+: .+ \(until .+\)$", done.stdout, re.M), done.stdout


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_a_bad_token_prints_the_message(snippet, server, org, requester, tmp_path):
    job = pending_job(requester=requester)

    done = run(snippet, url=server, token="cw_not-a-token", job_id=job.pk, tmp_path=tmp_path)

    assert done.returncode == 1
    assert "HTTP 401" in done.stdout
    assert "- not_authenticated: " in done.stdout or "- authentication_failed: " in done.stdout
    assert "Cannot iterate" not in done.stderr


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_an_unknown_job_prints_the_message(snippet, server, org, tmp_path):
    done = run(snippet, url=server, token=token_for(org["infra"]), job_id=999999, tmp_path=tmp_path)

    assert done.returncode == 1
    assert "HTTP 404" in done.stdout
    assert "- not_found: There is no job #999999." in done.stdout


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_a_throttled_pipeline_prints_the_message(
    snippet, server, org, requester, settings, monkeypatch, tmp_path
):
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"ci": "1/min"})
    job = pending_job(requester=requester)
    token = token_for(org["infra"])
    run(snippet, url=server, token=token, job_id=job.pk, tmp_path=tmp_path)

    done = run(snippet, url=server, token=token, job_id=job.pk, tmp_path=tmp_path)

    assert done.returncode == 1
    assert "HTTP 429" in done.stdout
    assert "- throttled: " in done.stdout


def _sh_blocks_after(marker: str) -> list[str]:
    text = README.read_text()
    start = text.index(marker)
    return re.findall(r"```sh\n(.*?)```", text[start:], re.S)


def test_the_readme_curl_recipes_create_a_feed_token_and_an_api_token(
    server, settings, requester, tmp_path
):
    # Plain http to the test server: the cookies must not be Secure-only.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    feed_recipe, api_recipe = _sh_blocks_after("## Calendar feeds (iCal)")[:2]
    shell = re.sub(r"^CLEARWAY_URL=.*$", f"CLEARWAY_URL={server}", feed_recipe, flags=re.M)
    shell += "\necho\n" + api_recipe.replace('"team": "infra-dba"', '"team": "infra"')

    done = subprocess.run(
        ["bash", "-e", "-c", shell],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "CLEARWAY_USER": "alice", "CLEARWAY_PASSWORD": "pw"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    feed, api = (json.loads(line) for line in done.stdout.strip().splitlines())
    assert feed["token"].startswith("cwf_") and "all" in feed["urls"], feed
    assert api["token"] and api["scopes"] == ["gate:read"], api
