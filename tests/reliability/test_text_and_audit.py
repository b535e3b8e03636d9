"""Low: one-line fields refuse control characters, mail headers stay safe, and
title or description edits after approval are audited.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from scheduling.models import Delivery, JobEvent
from scheduling.services.notifications import delivery_send
from tests.personas import as_user
from tests.workflow import approved_job, book, job_body

pytestmark = pytest.mark.django_db

HOSTILE = ["Reindex\r\nBcc: everyone@example.org", "Reindex\x00", "Re\u2028index", "\u202eindex"]


@pytest.mark.parametrize("title", HOSTILE)
def test_a_job_title_with_a_control_character_is_a_400_on_title(requester, title):
    answer = as_user(requester).post("/api/v1/jobs", job_body(title=title), format="json")

    assert answer.status_code == 400, answer.json()
    assert "title" in answer.json()["errors"]


def test_renaming_a_job_to_two_lines_is_a_400(requester):
    client = as_user(requester)
    job = book(client)

    answer = client.patch(f"/api/v1/jobs/{job['id']}", {"title": "a\nb"}, format="json")

    assert answer.status_code == 400
    assert "title" in answer.json()["errors"]


@pytest.mark.parametrize(
    ("path", "body", "who"),
    [
        (
            "/api/v1/blackouts",
            {"start": "2030-12-10T08:00:00Z", "end": "2030-12-10T09:00:00Z", "team": "platform"},
            "admin",
        ),
        (
            "/api/v1/deadlines",
            {
                "cohort_size": 10,
                "due": "2030-12-12T23:59:00Z",
                "team": "curriculum",
                "systems": ["grading-api"],
            },
            "curriculum_staff",
        ),
        ("/api/v1/teams", {"slug": "newteam"}, "admin"),
    ],
    ids=["blackout", "deadline", "team"],
)
def test_other_one_line_fields_refuse_control_characters(path, body, who, request):
    person = request.getfixturevalue(who)
    field = "name" if path.endswith("teams") else "title"

    answer = as_user(person).post(path, {**body, field: "Two\r\nlines"}, format="json")

    assert answer.status_code == 400, answer.json()
    assert field in answer.json()["errors"]


INVISIBLE = ["\u200b", "\u200c\u200d", "\u2060", "\ufeff", " \u200b \t\u2060 "]


@pytest.mark.parametrize("title", INVISIBLE)
def test_a_job_title_of_invisible_characters_is_refused_as_blank(requester, title):
    answer = as_user(requester).post("/api/v1/jobs", job_body(title=title), format="json")

    assert answer.status_code == 400, answer.json()
    assert answer.json()["errors"]["title"] == ["Give the job a title."]


def test_renaming_a_job_to_invisible_characters_is_refused_as_blank(requester):
    client = as_user(requester)
    job = book(client)

    answer = client.patch(f"/api/v1/jobs/{job['id']}", {"title": "\u200b\u200b"}, format="json")

    assert answer.status_code == 400, answer.json()
    assert answer.json()["errors"]["title"] == ["Give the job a title."]


@pytest.mark.parametrize("title", INVISIBLE)
@pytest.mark.parametrize(
    ("path", "body", "who", "noun"),
    [
        (
            "/api/v1/blackouts",
            {"start": "2030-12-10T08:00:00Z", "end": "2030-12-10T09:00:00Z", "team": "platform"},
            "admin",
            "blackout",
        ),
        (
            "/api/v1/deadlines",
            {
                "cohort_size": 10,
                "due": "2030-12-12T23:59:00Z",
                "team": "curriculum",
                "systems": ["grading-api"],
            },
            "curriculum_staff",
            "deadline",
        ),
    ],
    ids=["blackout", "deadline"],
)
def test_a_title_of_invisible_characters_is_refused_as_blank(path, body, who, noun, title, request):
    person = request.getfixturevalue(who)

    answer = as_user(person).post(path, {**body, "title": title}, format="json")

    assert answer.status_code == 400, answer.json()
    assert answer.json()["errors"]["title"] == [f"Give the {noun} a title."]


def test_an_email_about_a_stored_two_line_title_is_still_sent(requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)
    # Stored before the rule: the mail header is made safe when it is sent.
    type(job).objects.filter(pk=job.pk).update(title="Reindex\r\nBcc: x@example.org")
    delivery = Delivery.objects.create(
        key="k",
        channel="email:infra@example.org",
        event="test",
        subject="[Clearway] Job Reindex\r\nBcc: x@example.org",
        text="body",
        next_attempt_at=job.created_at,
    )

    assert delivery_send(delivery_id=delivery.pk)

    [sent] = mail.outbox[-1:]
    assert "\n" not in sent.subject and "\r" not in sent.subject
    assert sent.bcc == []


def test_a_title_edit_after_approval_keeps_the_approval_and_is_audited(requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)

    answer = as_user(requester).patch(
        f"/api/v1/jobs/{job.pk}", {"title": "Something else entirely"}, format="json"
    )

    assert answer.json()["status"] == "approved"
    [edit] = JobEvent.objects.filter(job=job, action="edited")
    assert edit.actor == requester
    assert "'Something else entirely'" in edit.reason and "title" in edit.reason


def test_a_description_edit_is_audited(requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)

    as_user(requester).patch(
        f"/api/v1/jobs/{job.pk}", {"description": "Now drops the table."}, format="json"
    )

    [edit] = JobEvent.objects.filter(job=job, action="edited")
    assert "description" in edit.reason


def test_an_unchanged_title_writes_no_audit_entry(requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)

    as_user(requester).patch(f"/api/v1/jobs/{job.pk}", {"title": job.title}, format="json")

    assert not JobEvent.objects.filter(job=job, action="edited").exists()


def test_a_window_change_after_approval_still_goes_back_to_review(requester, reviewer):
    job = approved_job(requester=requester, reviewer=reviewer)

    answer = as_user(requester).patch(
        f"/api/v1/jobs/{job.pk}",
        {"start": "2030-12-11T08:00:00Z", "end": "2030-12-11T10:00:00Z"},
        format="json",
    )

    assert answer.json()["status"] == "pending"


def test_the_admin_cannot_rename_a_job_around_the_audit_and_the_one_line_check(requester, reviewer):
    """The admin's change form saved the model directly: no audit entry, and a
    title with CR/LF (which breaks every email about the job) was accepted."""
    job = approved_job(requester=requester, reviewer=reviewer)
    superuser = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client = Client()
    client.force_login(superuser)

    page = client.get(f"/admin/scheduling/maintenancejob/{job.pk}/change/")

    assert page.status_code == 200
    assert 'name="title"' not in page.content.decode()
    assert 'name="description"' not in page.content.decode()
