"""Checking a feed's or a file's entries: the systems are read once for all of them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deadlines import entries as entries_module
from deadlines.entries import Cohorts, Defaults, Entry, resolve_all
from scheduling.errors import InvalidInput
from tests import builders
from tests.builders import at

pytestmark = pytest.mark.django_db


def entries(count: int, *, systems=("grading-api",)) -> list[Entry]:
    return [
        Entry(where=f"event {n}", title=f"Project {n}", due=at(12, n % 24), systems=systems)
        for n in range(count)
    ]


def queries_to_resolve(batch: list[Entry], defaults: Defaults) -> int:
    with CaptureQueriesContext(connection) as queries:
        resolve_all(batch, defaults=defaults, cohorts=Cohorts(team=defaults.team))
    return len(queries)


def test_checking_entries_reads_the_systems_once_however_many_there_are(grading_stack):
    defaults = Defaults(team=builders.team("curriculum"), cohort_size=300)

    assert queries_to_resolve(entries(2), defaults) == queries_to_resolve(entries(40), defaults)


def test_an_entry_naming_an_unknown_system_is_a_problem_of_that_entry(grading_stack):
    defaults = Defaults(team=builders.team("curriculum"), cohort_size=300)
    batch = entries(2) + entries(1, systems=("grading-api", "nowhere"))

    specs, problems = resolve_all(batch, defaults=defaults, cohorts=Cohorts(team=defaults.team))

    assert len(specs) == 2
    assert [(p.where, p.field, p.message) for p in problems] == [
        ("event 0", "systems", "Unknown system(s): nowhere.")
    ]


def test_entries_without_systems_are_checked_against_the_defaults(grading_stack):
    defaults = Defaults(team=builders.team("curriculum"), cohort_size=300, systems=("gone",))

    specs, problems = resolve_all(
        entries(2, systems=None), defaults=defaults, cohorts=Cohorts(team=defaults.team)
    )

    assert specs == []
    assert {p.message for p in problems} == {"Unknown system(s): gone."}


def test_an_entry_refused_without_a_field_is_still_a_problem_of_that_entry(
    grading_stack, monkeypatch
):
    def refuse(**kwargs):
        raise InvalidInput("The deadline is not valid.")

    monkeypatch.setattr(entries_module, "check_deadline", refuse)
    defaults = Defaults(team=builders.team("curriculum"), cohort_size=300)

    specs, problems = resolve_all(
        entries(1), defaults=defaults, cohorts=Cohorts(team=defaults.team)
    )

    assert specs == []
    assert [(p.where, p.field, p.message) for p in problems] == [
        ("event 0", "entry", "The deadline is not valid.")
    ]
