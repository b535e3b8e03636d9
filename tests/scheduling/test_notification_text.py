"""The words of the notices people read when a calendar change takes a job out of approval."""

import pytest
from django.core import mail

from tests import builders
from tests.builders import at
from tests.workflow import approved_job

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_conflict_notice_ends_its_first_sentence_with_one_full_stop(
    clock, requester, reviewer, curriculum_staff
):
    job = approved_job(requester=requester, reviewer=reviewer)
    mail.outbox.clear()

    builders.deadline(due=at(11, 12), cohort_size=2000, owner=curriculum_staff.teams.get())

    notices = [
        m for m in mail.outbox if m.subject.startswith(f"[Clearway] Conflict: job #{job.pk}")
    ]
    assert notices, [m.subject for m in mail.outbox]
    first_line = notices[0].body.splitlines()[0]
    assert first_line.endswith("work.") and not first_line.endswith(".."), first_line
