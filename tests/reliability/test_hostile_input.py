"""Hostile input: what tests/deadlines does not already cover.

Covered there (and listed in docs/reliability.md): the SSRF corpus of literal
addresses, a name resolving to loopback, a redirect to the metadata address,
size and time bombs through a sync (declared size, gzip bomb, trickle,
silence, too many events), FREQ=SECONDLY in a feed, and broken DTSTART/DTEND
skipped and reported (test_feed_parse, test_feed_sync). Here: names resolving
to private, mixed, mapped and NAT64 addresses, redirects through such names,
numeric host spellings, a 50 MiB body sent without Content-Length, and
RRULE bombs sent to the jobs and blackouts API.
"""

import http.server
import re
import socket
import threading

import pytest
from rest_framework.test import APIClient

from blackouts.models import Blackout
from deadlines.feeds import addresses
from deadlines.feeds.errors import FeedError
from deadlines.feeds.fetch import fetch_feed
from deadlines.feeds.sync import feed_sync
from deadlines.models import Deadline, DeadlineFeed
from scheduling.models import CalendarChange, MaintenanceJob
from tests import builders
from tests.bounded import rule_steps
from tests.deadlines.conftest import lms  # noqa: F401 - the local LMS fixture
from tests.deadlines.helpers import feed

REFUSED = "private, loopback, link-local or reserved"


@pytest.fixture
def no_allowlist(settings):
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = []


@pytest.fixture
def resolver(monkeypatch):
    """`resolver.names[name] = [addresses]`: what getaddrinfo answers for those names."""

    class Resolver:
        names: dict[str, list[str]] = {}

    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in Resolver.names:
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (address, port or 80),
                )
                for address in Resolver.names[host]
            ]
        return real(host, port, *args, **kwargs)

    Resolver.names = {}
    monkeypatch.setattr(addresses.socket, "getaddrinfo", getaddrinfo)
    return Resolver


# --- SSRF: names, redirects, spellings -----------------------------------------


@pytest.mark.parametrize(
    "answers",
    [
        ["10.1.2.3"],  # a private range
        ["169.254.169.254"],  # the cloud metadata service
        ["93.184.216.34", "192.168.0.10"],  # one public, one private: any private refuses
        ["::ffff:10.0.0.1"],  # an IPv4-mapped AAAA record
        ["64:ff9b::a9fe:a9fe"],  # NAT64 (DNS64) wrapping 169.254.169.254
        ["fd12:3456::1"],  # IPv6 unique local
        ["fe80::1"],  # IPv6 link-local
    ],
)
def test_a_name_resolving_to_a_private_address_is_refused_before_connecting(
    answers, resolver, no_allowlist
):
    """Pass: FeedError naming the address; nothing is connected (the names do not exist)."""
    resolver.names["lms.example.test"] = answers

    with pytest.raises(FeedError, match=REFUSED):
        fetch_feed(url="http://lms.example.test/calendar.ics")


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/c.ics",  # 127.0.0.1 as one decimal number
        "http://0x7f.1/c.ics",  # hexadecimal, short form
        "http://017700000001/c.ics",  # octal
        "http://127.1/c.ics",
        "http://0/c.ics",  # 0.0.0.0
        "http://[::]/c.ics",
        "http://[::ffff:7f00:1]/c.ics",  # IPv4-mapped in hex
        "http://[::ffff:0:a9fe:a9fe]/c.ics",  # IPv4-translated (SIIT) metadata
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",  # NAT64 metadata
    ],
)
def test_other_spellings_of_private_addresses_are_refused(url, no_allowlist):
    with pytest.raises(FeedError, match=REFUSED):
        fetch_feed(url=url)


def test_a_redirect_to_a_name_resolving_privately_is_refused(lms, resolver, settings):  # noqa: F811
    """Pass: each hop's name is resolved and checked: the LMS (allowlisted) redirects to
    a name resolving to 10.0.0.5, which is refused with nothing sent there."""
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    resolver.names["intranet.example.test"] = ["10.0.0.5"]
    lms.serve("/moved", status=302, headers={"Location": "http://intranet.example.test/x.ics"})

    with pytest.raises(FeedError, match=re.escape("intranet.example.test resolves to 10.0.0.5")):
        fetch_feed(url=lms.url("/moved"))


def test_a_redirect_to_a_mapped_metadata_address_is_refused(lms, settings):  # noqa: F811
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    lms.serve("/moved", status=307, headers={"Location": "http://[::ffff:169.254.169.254]/"})

    with pytest.raises(FeedError, match=REFUSED):
        fetch_feed(url=lms.url("/moved"))


# --- a 50 MiB body without a declared length ------------------------------------

FIFTY_MIB = 50 * 1024 * 1024


class EndlessCalendar(http.server.BaseHTTPRequestHandler):
    """50 MiB of calendar, with no Content-Length: only the reader's limit stops it."""

    protocol_version = "HTTP/1.0"
    sent = 0

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/calendar")
        self.end_headers()
        chunk = b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"x" * 65_000 + b"\r\n"
        try:
            while EndlessCalendar.sent < FIFTY_MIB:
                self.wfile.write(chunk)
                EndlessCalendar.sent += len(chunk)
        except OSError:
            pass  # the client hung up at its limit

    def log_message(self, *args):
        pass


@pytest.fixture
def endless():
    EndlessCalendar.sent = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EndlessCalendar)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/calendar.ics"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_a_50_mib_body_without_content_length_stops_at_the_limit_and_changes_nothing(
    endless, settings, grading_stack
):
    """Pass: with the default 10 MB limit the sync fails, says why on
    the feed, creates no deadline, and hangs up long before 50 MiB are sent."""
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    limit = settings.CLEARWAY_FEED_MAX_BYTES
    # Feeds publish deadlines, so they belong to a curriculum team.
    target = feed(endless, team=builders.team("curriculum"))

    result = feed_sync(feed_id=target.pk)

    assert not result.ok
    assert f"larger than the limit of {limit:,} bytes" in result.error
    assert DeadlineFeed.objects.get(pk=target.pk).last_error == result.error
    assert not Deadline.objects.exists()
    assert EndlessCalendar.sent < FIFTY_MIB


# --- RRULE bombs through the API ------------------------------------------------

# (rule, start, words of the error). Each start is the rule's first occurrence.
JOB_BOMBS = {
    "every second, a billion times": (
        "FREQ=SECONDLY;COUNT=1000000000",
        "2030-12-10T08:00:00Z",
        "more than 500 occurrences",
    ),
    "every second, filtered to one a year": (
        "FREQ=SECONDLY;BYMONTH=12;BYMONTHDAY=10;BYHOUR=8;BYMINUTE=0;BYSECOND=0;COUNT=3",
        "2030-12-10T08:00:00Z",
        "cannot also have BYHOUR",
    ),
    "every minute, filtered": (
        "FREQ=MINUTELY;BYDAY=TU;BYHOUR=8;BYMINUTE=0;COUNT=3",
        "2030-12-10T08:00:00Z",
        "cannot also have",
    ),
    "a huge COUNT": ("FREQ=DAILY;COUNT=2000000000", "2030-12-10T08:00:00Z", "more than 500"),
    "INTERVAL=0": ("FREQ=DAILY;INTERVAL=0;COUNT=3", "2030-12-10T08:00:00Z", "INTERVAL must"),
    "Monday 29 February, hourly, for millennia": (
        "FREQ=HOURLY;BYHOUR=8;BYDAY=MO;BYMONTH=2;BYMONTHDAY=29;COUNT=300",
        "2044-02-29T08:00:00Z",
        "within 10 years",
    ),
    "an UNTIL in the year 9999": (
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;UNTIL=99991231T000000Z",
        "2032-02-29T08:00:00Z",
        "within 10 years",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", JOB_BOMBS)
def test_a_job_with_a_hostile_rrule_is_a_400_on_rrule_after_bounded_work(case, requester):
    """Pass: 400 with the reason under `rrule`, after bounded work, no job booked."""
    rule, start, words = JOB_BOMBS[case]
    client = APIClient()
    client.force_authenticate(requester)
    body = {
        "title": "Hostile",
        "team": "infra",
        "systems": ["reports-db"],
        "start": start,
        "end": start.replace("T08:", "T09:"),
        "impact": "degraded",
        "rrule": rule,
    }

    with rule_steps() as steps:
        response = client.post("/api/v1/jobs", body, format="json")

    # A job's rule stops at 500 occurrences or its step budget; each bomb
    # unguarded takes millions of steps.
    assert steps.count < 100_000
    assert response.status_code == 400, response.json()
    assert words in " ".join(response.json()["errors"]["rrule"])
    assert not MaintenanceJob.objects.exists()


BLACKOUT_BOMBS = {
    "every second, forever": ("FREQ=SECONDLY", [], "more than 5000 occurrences"),
    "every second, filtered": (
        "FREQ=SECONDLY;BYHOUR=8;BYMINUTE=0;BYSECOND=0",
        [],
        "cannot also have BYHOUR",
    ),
    "a huge COUNT of minutes": ("FREQ=MINUTELY;COUNT=999999999", [], "more than 5000"),
    "INTERVAL=0": ("FREQ=WEEKLY;INTERVAL=0", [], "INTERVAL must"),
    "every occurrence excluded": (
        "FREQ=DAILY;COUNT=3",
        ["2030-12-10T08:00:00Z", "2030-12-11T08:00:00Z", "2030-12-12T08:00:00Z"],
        "Every occurrence of the rule is excluded",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BLACKOUT_BOMBS)
def test_a_blackout_with_a_hostile_rrule_is_a_400_after_bounded_work_and_changes_nothing(
    case, admin
):
    """Pass: 400 naming the problem under `rrule`, after bounded work, no blackout and no
    calendar change recorded."""
    rule, exdates, words = BLACKOUT_BOMBS[case]
    client = APIClient()
    client.force_authenticate(admin)
    changes = CalendarChange.objects.count()
    body = {
        "title": "Hostile",
        "team": "platform",
        "start": "2030-12-10T08:00:00Z",
        "end": "2030-12-10T09:00:00Z",
        "rrule": rule,
        "exdates": exdates,
    }

    with rule_steps() as steps:
        response = client.post("/api/v1/blackouts", body, format="json")

    # A blackout's rule stops at 5,000 occurrences or its step budget.
    assert steps.count < 100_000
    assert response.status_code == 400, response.json()
    assert words in " ".join(response.json()["errors"]["rrule"])
    assert not Blackout.objects.exists()
    assert CalendarChange.objects.count() == changes
