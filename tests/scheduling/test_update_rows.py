"""`db.update_rows`: the bulk writes' UPDATE, one row at a time through executemany."""

import pytest

from deadlines.models import Deadline
from scheduling.db import update_rows
from tests import builders

pytestmark = pytest.mark.django_db


def test_the_given_fields_are_written_and_the_bumped_ones_grow_by_one():
    first = builders.deadline(title="Essay 1")
    second = builders.deadline(title="Essay 2", cohort_size=40)
    versions = {d.pk: d.version for d in (first, second)}
    first.title, second.title = "Essay 1 (moved)", "Essay 2 (moved)"

    update_rows(Deadline, [first, second], ["title"], bump=["version"])

    stored = {d.pk: (d.title, d.version, d.cohort_size) for d in Deadline.objects.all()}
    assert stored == {
        first.pk: ("Essay 1 (moved)", versions[first.pk] + 1, 2000),
        second.pk: ("Essay 2 (moved)", versions[second.pk] + 1, 40),
    }


def test_rows_not_given_are_left_alone():
    moved = builders.deadline(title="Essay 1")
    kept = builders.deadline(title="Essay 2")
    moved.title = "Essay 1 (moved)"

    update_rows(Deadline, [moved], ["title"], bump=["version"])

    assert Deadline.objects.get(pk=kept.pk).title == "Essay 2"
    assert Deadline.objects.get(pk=kept.pk).version == kept.version


def test_nothing_to_write_sends_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        update_rows(Deadline, [], ["title"])
