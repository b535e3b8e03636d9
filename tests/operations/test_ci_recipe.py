"""The README's run recipe, run by bash (curl + jq) against a live Clearway.

It proves the recipe a team copies: the run is started through the gate,
finished by `trap` whatever way the command ends, and the batch loop stops
when Clearway asks it to.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from operations.models import Run, RunStatus
from tests.builders import at
from tests.ci.clients import token_for
from tests.workflow import approved_job

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (shutil.which("curl") and shutil.which("jq")), reason="the recipe needs curl and jq"
    ),
]

README = Path(__file__).resolve().parents[2] / "README.md"


def block_after(marker: str) -> str:
    text = README.read_text()
    start = text.index("```sh\n", text.index(marker)) + len("```sh\n")
    return text[start : text.index("```", start)]


@pytest.fixture
def pipeline(live_server, org, requester, reviewer, clock, tmp_path):
    job = approved_job(requester=requester, reviewer=reviewer)
    (tmp_path / "clearway-run.sh").write_text(block_after("`scripts/clearway-run.sh`:"))
    env = {
        "PATH": f"{tmp_path}:{os.environ['PATH']}",
        "CLEARWAY_URL": live_server.url,
        "CLEARWAY_TOKEN": token_for(org["infra"], "gate:read", "jobs:run"),
        "JOB": str(job.pk),
        "CI_PIPELINE_ID": "812",
        "LOG": str(tmp_path / "psql.log"),
    }

    def run(script: str, shell: str = "bash") -> subprocess.CompletedProcess:
        return subprocess.run(
            [shell, "-c", f". ./clearway-run.sh\n{script}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    run.job = job
    run.dir = tmp_path
    return run


def test_a_command_that_succeeds_finishes_its_run_as_succeeded(pipeline, clock):
    clock.move_to(at(10, 9))

    result = pipeline("true")

    assert result.returncode == 0, result.stderr
    assert Run.objects.get().status == RunStatus.SUCCEEDED


def test_a_command_that_fails_finishes_its_run_as_failed_with_its_exit_code(pipeline, clock):
    clock.move_to(at(10, 9))

    result = pipeline("exit 7")

    run = Run.objects.get()
    assert result.returncode == 7
    assert (run.status, run.note) == (RunStatus.FAILED, "exit 7")


def test_a_cancelled_pipeline_finishes_its_run_as_aborted(pipeline, clock):
    clock.move_to(at(10, 9))

    pipeline("kill -TERM $$; sleep 5")

    assert Run.objects.get().status == RunStatus.ABORTED


def test_a_closed_gate_starts_no_run_and_prints_why(pipeline, clock):
    clock.move_to(at(9, 9))

    result = pipeline("echo ran > ran.txt")

    assert result.returncode == 1
    assert "outside job" in result.stdout
    assert not (pipeline.dir / "ran.txt").exists()
    assert not Run.objects.exists()


def test_the_batch_loop_stops_between_batches_when_asked(pipeline, clock):
    clock.move_to(at(10, 9))
    (pipeline.dir / "tables.txt").write_text("grades\nsubmissions\nfeedback\n")
    # A stand-in for psql that, after the first batch, has a reviewer's stop
    # request arrive (through the API, as the job's team could send it).
    fake_psql = pipeline.dir / "psql"
    fake_psql.write_text(
        "#!/bin/sh\n"
        'echo "$@" >> "$LOG"\n'
        'auth="Authorization: Bearer $CLEARWAY_TOKEN"\n'
        'run=$(curl -sS -H "$auth" "$CLEARWAY_URL/api/v1/jobs/$JOB/runs" | jq -r ".[0].id")\n'
        "curl -sS -X POST -H \"$auth\" -H 'Content-Type: application/json' "
        '-d \'{"reason": "grade writes fail"}\' '
        '"$CLEARWAY_URL/api/v1/jobs/$JOB/runs/$run/stop" > /dev/null\n'
    )
    fake_psql.chmod(0o755)

    result = pipeline(block_after("honours `stop` between batches"))

    run = Run.objects.get()
    assert result.returncode == 3
    assert "grade writes fail" in result.stdout
    assert len((pipeline.dir / "psql.log").read_text().splitlines()) == 1
    assert run.status == RunStatus.ABORTED


@pytest.mark.skipif(not shutil.which("dash"), reason="needs a strict POSIX sh (dash)")
def test_the_recipe_sends_heartbeats_under_a_posix_sh(pipeline, clock):
    # Alpine and Debian images run CI scripts with sh, where a failed
    # `shift 2` ends the shell: the heartbeat call must not depend on it.
    clock.move_to(at(10, 9))

    result = pipeline(
        'answer=$(clearway "/$RUN/heartbeat"); echo "stop=$(echo "$answer" | jq -r .stop)"',
        shell="dash",
    )

    assert result.returncode == 0, result.stderr
    assert "stop=false" in result.stdout
    assert Run.objects.get().status == RunStatus.SUCCEEDED
