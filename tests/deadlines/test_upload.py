"""POST /api/v1/deadlines/upload: a CSV or .ics file, published all or nothing."""

import hashlib
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from deadlines.models import Cohort, Deadline
from deadlines.services import cohort_save
from tests import builders
from tests.deadlines.conftest import fixture_bytes
from tests.deadlines.test_feed_parse import calendar as calendar_text

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def upload(person, name: str, content: bytes | str, **form):
    client = APIClient()
    client.force_authenticate(person)
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        "/api/v1/deadlines/upload",
        {"file": SimpleUploadedFile(name, data), "team": "curriculum", **form},
        format="multipart",
    )


GOOD_CSV = """\
title,course,cohort,cohort_size,due,timezone,systems
Project 3,CS201,CS 2026,2000,2030-12-12T23:59:00Z,,grading-api;submissions-web
Essay 1,HIST101,,350,2030-12-14 17:00,Europe/London,grading-api submissions-web
Portfolio,ART110,Art 2027,,2030-12-20,America/New_York,
"Quiz 4, resit",CS201,,40,2030-12-15T09:00:00+01:00,,grading-api
"""


def test_a_csv_publishes_every_row(clock, curriculum):
    cohort_save(name="Art 2027", size=120, team=curriculum["team"])

    answer = upload(curriculum["carol"], "deadlines.csv", GOOD_CSV)

    assert answer.status_code == 201, answer.json()
    assert answer.json()["created"] == 4
    published = {d.title: d for d in Deadline.objects.all()}
    project = published["Project 3"]
    assert (project.cohort.name, project.cohort_size, project.due) == (
        "CS 2026",
        2000,
        utc(2030, 12, 12, 23, 59),
    )
    assert project.cohort.team == curriculum["team"]
    assert set(project.systems.values_list("slug", flat=True)) == {"grading-api", "submissions-web"}
    assert published["Essay 1"].due == utc(2030, 12, 14, 17)  # London is on UTC in December
    # A date alone: due when that day ends in the row's zone.
    portfolio = published["Portfolio"]
    assert (portfolio.due, portfolio.cohort_size) == (utc(2030, 12, 21, 5), 120)
    assert set(portfolio.systems.values_list("slug", flat=True)) == {
        "submissions-web",
        "grading-api",
    }
    assert published["Quiz 4, resit"].due == utc(2030, 12, 15, 8)
    assert {d.created_by for d in published.values()} == {curriculum["carol"]}


def test_a_csv_with_bad_rows_publishes_nothing_and_names_each_row_and_field(clock, curriculum):
    bad = """\
title,due,cohort,cohort_size,timezone,systems
Fine,2030-12-12T12:00:00Z,,100,,
,2030-12-12T12:00:00Z,,100,,
Bad due,next tuesday,,100,,
Bad zone,2030-12-12T12:00,,100,Mars/Olympus,
Bad size,2030-12-12T12:00:00Z,,many,,
Bad system,2030-12-12T12:00:00Z,,100,,grading-api;nope
New cohort,2030-12-12T12:00:00Z,Physics 2029,,,
Impossible,2030-02-30,,100,,
"""

    answer = upload(curriculum["carol"], "deadlines.csv", bad)

    assert answer.status_code == 400
    body = answer.json()
    assert body["message"] == "The file has 7 problems; no deadline was published."
    assert sorted(body["errors"]) == [
        "row 3.title",
        "row 4.due",
        "row 5.timezone",
        "row 6.cohort_size",
        "row 7.systems",
        "row 8.cohort_size",
        "row 9.due",
    ]
    assert body["errors"]["row 7.systems"] == ["Unknown system(s): nope."]
    assert body["problems"][0] == {
        "where": "row 3",
        "field": "title",
        "message": "Give the deadline a title.",
    }
    assert not Deadline.objects.exists()
    assert not Cohort.objects.exists()


@pytest.mark.parametrize(
    ("content", "key", "words"),
    [
        ("title,when\nA,2030-12-12\n", "row 1.when", "Unknown column"),
        ("title,course\nA,CS\n", "row 1.due", "required"),
        (b"title,due\n\xff\xfe,2030-12-12\n", "file.file", "not UTF-8"),
        ("title,due\nA,2030-12-12,extra\n", "row 2.file", "more values"),
        ("title,due\n\0,2030-12-12\n", "row 2.title", ""),
        ("title,Title,due\nFirst,Second,2030-12-12\n", "row 1.title", "given twice"),
    ],
)
def test_a_csv_that_cannot_be_read_is_refused(content, key, words, curriculum):
    answer = upload(curriculum["carol"], "deadlines.csv", content, cohort_size=10)

    assert answer.status_code == 400, answer.json()
    assert key in answer.json()["errors"], answer.json()
    assert words in " ".join(answer.json()["errors"][key])
    assert not Deadline.objects.exists()


def test_a_csv_row_is_named_by_its_spreadsheet_row_blank_rows_included(clock, curriculum):
    # Blank lines were not counted: the bad row below was called "row 3".
    content = "title,due,cohort_size\n\nEssay,2030-12-12T10:00Z,5\n\nQuiz,next tuesday,5\n"

    answer = upload(curriculum["carol"], "deadlines.csv", content)

    assert answer.status_code == 400, answer.json()
    assert list(answer.json()["errors"]) == ["row 5.due"]


@pytest.mark.parametrize(("separator", "name"), [(";", "semicolons"), ("\t", "tabs")])
def test_a_csv_with_another_separator_is_refused_saying_which(separator, name, curriculum):
    # It said "Unknown column" for 'title;due;cohort_size' and that title and
    # due were missing, though both were there.
    content = separator.join(["title", "due", "cohort_size"]) + "\nEssay;2030-12-12;5\n"

    answer = upload(curriculum["carol"], "deadlines.csv", content)

    assert answer.status_code == 400, answer.json()
    assert list(answer.json()["errors"]) == ["row 1.file"]
    [message] = answer.json()["errors"]["row 1.file"]
    assert f"separated by {name}" in message and "commas" in message


UNICODE_TEXT = "title\tdue\tcohort_size\r\nEssay\t2030-12-12T10:00Z\t5\r\n"


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe" + UNICODE_TEXT.encode("utf-16-le"),  # Excel's "Unicode text"
        b"\xfe\xff" + UNICODE_TEXT.encode("utf-16-be"),
        UNICODE_TEXT.replace("\t", ",").encode("utf-16-le"),  # no BOM
    ],
)
def test_a_utf16_csv_is_refused_asking_for_csv_utf8(content, curriculum):
    # It said "not UTF-8" (with a BOM) or named unknown columns full of NULs (without).
    answer = upload(curriculum["carol"], "deadlines.csv", content)

    assert answer.status_code == 400, answer.json()
    assert list(answer.json()["errors"]) == ["file.file"]
    [message] = answer.json()["errors"]["file.file"]
    assert "UTF-16" in message and '"CSV UTF-8' in message
    assert not Deadline.objects.exists()


def test_a_csv_course_with_a_bidirectional_override_is_a_row_error(clock, curriculum):
    content = "title,course,due,cohort_size\nEssay,CS 101\u202e,2030-12-12T10:00Z,5\n"

    answer = upload(curriculum["carol"], "deadlines.csv", content)

    assert answer.status_code == 400, answer.json()
    assert list(answer.json()["errors"]) == ["row 2.course"]


def test_a_csv_quote_that_never_closes_is_named_at_the_row_it_opens(clock, curriculum):
    # The rows after the quote were read into one title, and the error asked
    # for a missing due instead of naming the quote.
    content = (
        "title,due,cohort_size\n"
        "Essay,2030-12-12T10:00Z,5\n"
        '"Quiz 4, resit,2030-12-13T10:00Z,5\n'
        "Lab,2030-12-14T10:00Z,5\n"
    )

    answer = upload(curriculum["carol"], "deadlines.csv", content)

    assert answer.status_code == 400, answer.json()
    assert list(answer.json()["errors"]) == ["row 3.file"]
    [message] = answer.json()["errors"]["row 3.file"]
    assert "quote" in message and "never closes" in message
    assert not Deadline.objects.exists()


def test_a_csv_header_quote_that_never_closes_is_named_at_row_1(clock, curriculum):
    content = '"title,due,cohort_size\nEssay,2030-12-12T10:00Z,5\n'

    answer = upload(curriculum["carol"], "deadlines.csv", content)

    assert answer.status_code == 400, answer.json()
    assert list(answer.json()["errors"]) == ["row 1.file"]
    assert "never closes" in answer.json()["errors"]["row 1.file"][0]


def test_a_csv_quote_that_never_closes_in_a_long_file_is_named_not_the_field_limit(
    clock, curriculum
):
    # The value grew past the csv module's limit first: "field larger than field limit".
    rows = "".join(f"Lab {n},2030-12-14T10:00Z,5\n" for n in range(6000))
    content = 'title,due,cohort_size\n"Quiz,2030-12-13T10:00Z,5\n' + rows

    answer = upload(curriculum["carol"], "deadlines.csv", content)

    assert answer.status_code == 400, answer.json()
    assert list(answer.json()["errors"]) == ["row 2.file"]
    assert "never closes" in answer.json()["errors"]["row 2.file"][0]


def test_a_csv_title_of_invisible_characters_is_a_row_error_on_title(clock, curriculum):
    content = "title,due,cohort_size\nEssay,2030-12-12T10:00Z,5\n\u200b\u2060,2030-12-13T10:00Z,5\n"

    answer = upload(curriculum["carol"], "deadlines.csv", content)

    assert answer.status_code == 400, answer.json()
    assert answer.json()["errors"] == {"row 3.title": ["Give the deadline a title."]}
    assert not Deadline.objects.exists()


def test_a_csv_row_with_every_cell_empty_is_skipped_like_a_blank_line(clock, curriculum):
    # Spreadsheets save rows of empty cells (",,") after the data; each one
    # refused the whole upload with "Give the deadline a title".
    content = "title,due,cohort_size\nEssay,2030-12-12T10:00Z,5\n,,\n , ,\n"

    answer = upload(curriculum["carol"], "deadlines.csv", content)

    assert answer.status_code == 201, answer.json()
    assert answer.json()["created"] == 1


def test_an_ics_upload_publishes_its_events_with_the_form_defaults(clock, curriculum):
    answer = upload(
        curriculum["carol"],
        "canvas.ics",
        fixture_bytes("canvas.ics"),
        cohort_size=300,
        systems="submissions-web",
    )

    assert answer.status_code == 201, answer.json()
    dues = {d.external_uid: (d.due, d.cohort_size) for d in Deadline.objects.all()}
    assert dues == {
        "event-assignment-12345": (utc(2030, 12, 16, 6, 59), 300),
        "event-calendar-event-678": (utc(2030, 12, 21), 300),
        "event-calendar-event-679": (utc(2030, 12, 19, 2), 300),
        "event-assignment-12399": (utc(2030, 12, 19, 6, 59), 2000),
    }
    assert {d.source for d in Deadline.objects.all()} == {"upload"}


def test_an_ics_upload_with_a_broken_event_publishes_nothing(clock, curriculum):
    broken = fixture_bytes("moodle.ics").replace(b"DTSTART:20301215T170000Z", b"DTSTART:soon")

    answer = upload(curriculum["carol"], "moodle.ics", broken, cohort_size=300)

    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["event 2 (UID 4254@moodle.example.edu).DTSTART"]
    assert not Deadline.objects.exists()


def test_an_ics_upload_overriding_one_occurrence_twice_publishes_nothing(clock, curriculum):
    moved_twice = calendar_text(
        "UID:lab\nSUMMARY:Lab\nDTSTART:20301210T100000Z\nRRULE:FREQ=DAILY;COUNT=3",
        "UID:lab\nSUMMARY:Lab\nRECURRENCE-ID:20301211T100000Z\nDTSTART:20301211T090000Z",
        "UID:lab\nSUMMARY:Lab\nRECURRENCE-ID:20301211T100000Z\nDTSTART:20301211T110000Z",
    )

    answer = upload(curriculum["carol"], "lab.ics", moved_twice, cohort_size=300)

    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["event 3 (UID lab).RECURRENCE-ID"]
    assert not Deadline.objects.exists()


def test_an_ics_upload_with_an_event_giving_its_summary_twice_publishes_nothing(clock, curriculum):
    twice = calendar_text(
        "UID:ok\nSUMMARY:Fine\nDTSTART:20301212T100000Z",
        "UID:x\nSUMMARY:Essay\nSUMMARY:Essay (resit)\nDTSTART:20301212T100000Z",
    )

    answer = upload(curriculum["carol"], "lms.ics", twice, cohort_size=300)

    assert answer.status_code == 400, answer.json()
    assert list(answer.json()["errors"]) == ["event 2 (UID x).SUMMARY"]
    assert "SUMMARY more than once" in answer.json()["errors"]["event 2 (UID x).SUMMARY"][0]
    assert not Deadline.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("x.ics", b"<html>login</html>", "not an iCalendar file"),
        ("x.ics", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", "cut off"),
        ("x.csv", b"   \n", "empty"),
        ("x.csv", b"title,due\n", "no deadlines"),
        ("x.csv", b"a" * 2_000_001, "at most 2,000,000 bytes"),
    ],
)
def test_a_file_that_is_not_usable_is_refused(name, content, words, curriculum):
    answer = upload(curriculum["carol"], name, content, cohort_size=5)

    assert answer.status_code == 400
    assert words in str(answer.json()["errors"])


def test_an_ics_summary_of_invisible_characters_is_refused_as_no_title(clock, curriculum):
    invisible = calendar_text("UID:x\nSUMMARY:\u200b\ufeff\nDTSTART:20301212T100000Z")

    answer = upload(curriculum["carol"], "lms.ics", invisible, cohort_size=300)

    assert answer.status_code == 400, answer.json()
    [message] = answer.json()["errors"]["event 1 (UID x).SUMMARY"]
    assert "no title" in message
    assert not Deadline.objects.exists()


def test_an_ics_upload_whose_summary_is_too_long_is_refused_not_cut(clock, curriculum):
    long_title = calendar_text(f"UID:x\nSUMMARY:{'S' * 301}\nDTSTART:20301212T100000Z")

    answer = upload(curriculum["carol"], "lms.ics", long_title, cohort_size=300)

    assert answer.status_code == 400, answer.json()
    assert "301 characters" in answer.json()["errors"]["event 1 (UID x).SUMMARY"][0]
    assert not Deadline.objects.exists()


def test_an_ics_upload_that_is_not_utf8_is_refused_not_garbled(clock, curriculum):
    latin1 = calendar_text("UID:x\nSUMMARY:Caf\xe9\nDTSTART:20301212T100000Z", latin1=True)

    answer = upload(curriculum["carol"], "lms.ics", latin1, cohort_size=300)

    assert answer.status_code == 400, answer.json()
    assert "not UTF-8" in answer.json()["errors"]["file"][0]
    assert not Deadline.objects.exists()


def test_an_ics_upload_publishes_every_occurrence_of_a_bounded_rule(clock, curriculum):
    # Only those within the 400-day horizon were published, and an upload is
    # never synced again: the later ones were lost without a word.
    yearly = calendar_text(
        "UID:exam\nSUMMARY:Finals\nDTSTART:20301210T090000Z\nRRULE:FREQ=YEARLY;COUNT=5"
    )

    answer = upload(curriculum["carol"], "exams.ics", yearly, cohort_size=300)

    assert answer.status_code == 201, answer.json()
    dues = sorted(Deadline.objects.values_list("due", flat=True))
    assert dues == [utc(year, 12, 10, 9) for year in range(2030, 2035)]


def test_an_ics_upload_with_an_endless_rule_is_refused_asking_for_an_end(
    clock, curriculum, settings
):
    settings.CLEARWAY_FEED_MAX_OCCURRENCES = 100
    weekly = calendar_text("UID:quiz\nSUMMARY:Quiz\nDTSTART:20301210T090000Z\nRRULE:FREQ=WEEKLY")

    answer = upload(curriculum["carol"], "quizzes.ics", weekly, cohort_size=300)

    assert answer.status_code == 400, answer.json()
    [message] = answer.json()["errors"]["event 1 (UID quiz).RRULE"]
    assert "more than 100 occurrences" in message and "COUNT" in message
    assert not Deadline.objects.exists()


def test_only_the_team_uploads_its_deadlines(curriculum):
    outsider = builders.user("olly", team=builders.team("physics"))

    answer = upload(outsider, "deadlines.csv", GOOD_CSV)

    assert answer.status_code == 403
    assert not Deadline.objects.exists()


def test_an_upload_without_a_file_names_the_field(curriculum):
    client = APIClient()
    client.force_authenticate(curriculum["carol"])

    answer = client.post("/api/v1/deadlines/upload", {"team": "curriculum"}, format="multipart")

    assert answer.status_code == 400
    assert "file" in answer.json()["errors"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(["x.csv", "x.ics", "x.txt"]),
    content=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda text: ("title,due,cohort_size\n" + text).encode()),
        st.text(max_size=300).map(lambda text: ("BEGIN:VCALENDAR\r\n" + text).encode()),
    ),
)
def test_no_upload_answers_500(name, content, curriculum):
    answer = upload(curriculum["carol"], name, content)

    assert answer.status_code in (201, 400), answer.content


def test_a_csv_row_due_at_a_time_the_spring_change_skips_is_refused(curriculum):
    content = "title,cohort_size,due,timezone\nEssay,300,2031-03-30 01:30,Europe/London\n"

    answer = upload(curriculum["carol"], "deadlines.csv", content)

    assert answer.status_code == 400, answer.json()
    [message] = answer.json()["errors"]["row 2.due"]
    assert "01:30 on Sun 30 Mar 2031 does not exist in Europe/London" in message
    assert not Deadline.objects.exists()


# --- the same source again: upserted by row, never duplicated ------------------


def test_uploading_the_same_csv_twice_changes_nothing(clock, curriculum):
    cohort_save(name="Art 2027", size=120, team=curriculum["team"])
    upload(curriculum["carol"], "deadlines.csv", GOOD_CSV, source="CS spring")
    before = {d.pk: d.version for d in Deadline.objects.all()}

    again = upload(curriculum["carol"], "deadlines.csv", GOOD_CSV, source="CS spring")

    assert again.status_code == 200, again.json()
    counts = {k: again.json()[k] for k in ("created", "updated", "unchanged", "withdrawn")}
    assert counts == {"created": 0, "updated": 0, "unchanged": 4, "withdrawn": 0}
    assert {d.pk: d.version for d in Deadline.objects.all()} == before


def test_an_edited_csv_row_is_updated_in_place(clock, curriculum):
    cohort_save(name="Art 2027", size=120, team=curriculum["team"])
    upload(curriculum["carol"], "deadlines.csv", GOOD_CSV, source="CS spring")
    essay = Deadline.objects.get(title="Essay 1")

    edited = GOOD_CSV.replace("HIST101,,350,", "HIST101,,900,")
    answer = upload(curriculum["carol"], "deadlines.csv", edited, source="CS spring")

    assert (answer.json()["updated"], answer.json()["created"]) == (1, 0)
    essay.refresh_from_db()
    assert essay.cohort_size == 900
    assert Deadline.objects.filter(title="Essay 1").count() == 1


def test_a_row_left_out_of_the_source_is_withdrawn(clock, curriculum):
    cohort_save(name="Art 2027", size=120, team=curriculum["team"])
    upload(curriculum["carol"], "deadlines.csv", GOOD_CSV, source="CS spring")

    shorter = "\n".join(line for line in GOOD_CSV.splitlines() if "Quiz 4" not in line)
    answer = upload(curriculum["carol"], "deadlines.csv", shorter, source="CS spring")

    assert answer.json()["withdrawn"] == 1
    assert Deadline.objects.get(title="Quiz 4, resit").withdrawn_at is not None


def test_another_source_name_is_another_set_of_deadlines(clock, curriculum):
    cohort_save(name="Art 2027", size=120, team=curriculum["team"])
    upload(curriculum["carol"], "deadlines.csv", GOOD_CSV, source="CS spring")

    answer = upload(curriculum["carol"], "deadlines.csv", GOOD_CSV, source="CS resits")

    assert answer.json()["created"] == 4
    assert Deadline.objects.filter(withdrawn_at=None).count() == 8


ICS_FORM = {"cohort_size": 300, "source": "Moodle CS201"}


def test_uploading_the_same_ics_twice_changes_nothing(clock, curriculum):
    first = upload(curriculum["carol"], "moodle.ics", fixture_bytes("moodle.ics"), **ICS_FORM)
    assert first.status_code == 201, first.json()
    count = Deadline.objects.count()

    again = upload(curriculum["carol"], "moodle.ics", fixture_bytes("moodle.ics"), **ICS_FORM)

    assert (again.json()["unchanged"], again.json()["created"]) == (count, 0)
    assert Deadline.objects.count() == count


def test_an_ics_event_moved_in_the_lms_is_updated_by_its_uid(clock, curriculum):
    upload(curriculum["carol"], "moodle.ics", fixture_bytes("moodle.ics"), **ICS_FORM)
    quiz = Deadline.objects.get(external_uid="4254@moodle.example.edu")

    moved = fixture_bytes("moodle.ics").replace(b"20301215T170000Z", b"20301216T170000Z")
    answer = upload(curriculum["carol"], "moodle.ics", moved, **ICS_FORM)

    assert answer.json()["updated"] == 1
    quiz.refresh_from_db()
    assert quiz.due == utc(2030, 12, 16, 17)
    assert Deadline.objects.filter(external_uid="4254@moodle.example.edu").count() == 1


# --- rows that name the same deadline, and numbers that only look like numbers --


def test_the_same_project_due_for_two_cohorts_is_two_deadlines(clock, curriculum):
    content = (
        "title,course,cohort,cohort_size,due\n"
        "Project 3,CS201,cohort-a,600,2030-12-12T23:59Z\n"
        "Project 3,CS201,cohort-b,700,2030-12-12T23:59Z\n"
    )

    answer = upload(curriculum["carol"], "deadlines.csv", content)

    assert answer.status_code == 201, answer.json()
    assert sorted(Deadline.objects.values_list("cohort__name", "cohort_size")) == [
        ("cohort-a", 600),
        ("cohort-b", 700),
    ]


def test_two_rows_naming_one_deadline_are_refused_naming_both(clock, curriculum):
    content = (
        "title,course,cohort,cohort_size,due\n"
        "Project 3,CS201,cohort-a,600,2030-12-12T23:59Z\n"
        "project 3 ,cs201,cohort-a,900,2030-12-12T23:59Z\n"
    )

    answer = upload(curriculum["carol"], "deadlines.csv", content)

    assert answer.status_code == 400, answer.json()
    [message] = answer.json()["errors"]["row 3.title"]
    assert "The same deadline as row 2" in message
    assert not Deadline.objects.exists()


def test_a_row_stored_before_cohorts_counted_is_updated_in_place(clock, curriculum):
    content = (
        "title,course,cohort,cohort_size,due\nProject 3,CS201,cohort-a,600,2030-12-12T23:59Z\n"
    )
    upload(curriculum["carol"], "deadlines.csv", content, source="CS spring")
    stored = Deadline.objects.get()
    # The key such a row was given before: title, course and due only.
    named = "project 3\x1fcs201\x1f2030-12-12T23:59:00+00:00"
    Deadline.objects.filter(pk=stored.pk).update(
        external_uid="row:" + hashlib.sha256(named.encode()).hexdigest()[:32]
    )

    again = upload(
        curriculum["carol"], "deadlines.csv", content.replace(",600,", ",650,"), source="CS spring"
    )

    counts = {k: again.json()[k] for k in ("created", "updated", "withdrawn")}
    assert counts == {"created": 0, "updated": 1, "withdrawn": 0}
    assert Deadline.objects.get().pk == stored.pk
    assert Deadline.objects.get().cohort_size == 650


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("Essay,²,2030-12-12T23:59Z", "cohort_size"),
        ("Essay,100,9999-12-31", "due"),
        # More digits than Python's int() converts: was a ValueError and a 500.
        ("Essay," + "9" * 5000 + ",2030-12-12T23:59Z", "cohort_size"),
    ],
    ids=["superscript", "year-9999", "5000-digits"],
)
def test_a_row_with_a_number_or_day_out_of_reach_is_a_400_on_its_field(row, field, curriculum):
    answer = upload(curriculum["carol"], "deadlines.csv", f"title,cohort_size,due\n{row}\n")

    assert answer.status_code == 400, answer.content
    assert f"row 2.{field}" in answer.json()["errors"]
