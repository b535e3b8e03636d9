"""Fetching a feed: the SSRF guard, pinned connections, redirects, conditional GET, gzip."""

import gzip
import re
import socket

import pytest

from deadlines.feeds import addresses
from deadlines.feeds.errors import FeedError
from deadlines.feeds.fetch import fetch_feed
from tests.deadlines.conftest import fixture_bytes

MOODLE = fixture_bytes("moodle.ics")


@pytest.fixture
def no_allowlist(settings):
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/moodle.ics",
        "http://[::ffff:127.0.0.1]:{port}/moodle.ics",
        "http://localhost:{port}/moodle.ics",
        "http://[::1]:{port}/moodle.ics",
        "http://10.20.30.40/calendar.ics",
        "http://192.168.1.10/calendar.ics",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/calendar.ics",
        "http://0.0.0.0:{port}/moodle.ics",
        "http://[fd00::1]/calendar.ics",
        "http://[2002:7f00:1::1]/calendar.ics",  # 6to4 wrapping 127.0.0.1
    ],
)
def test_private_addresses_are_refused_without_an_allowlist(url, no_allowlist, lms):
    lms.serve_fixture("/moodle.ics", "moodle.ics")

    with pytest.raises(FeedError, match="private, loopback, link-local or reserved"):
        fetch_feed(url=url.format(port=lms.port))

    assert lms.requests == [], "nothing was sent to the private address"


def test_an_allowlisted_network_is_fetched_and_others_still_refused(settings, lms):
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    lms.serve_fixture("/moodle.ics", "moodle.ics")
    with pytest.raises(FeedError, match=re.escape("127.0.0.1")):
        fetch_feed(url=lms.url("/moodle.ics"))

    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    assert fetch_feed(url=lms.url("/moodle.ics")).body == MOODLE
    mapped = f"http://[::ffff:127.0.0.1]:{lms.port}/moodle.ics"
    assert fetch_feed(url=mapped).body == MOODLE  # judged, and reached, over IPv4


def test_a_broken_allowlist_is_reported_on_the_feed(settings):
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = ["not-a-network"]

    with pytest.raises(FeedError, match="CLEARWAY_FEED_ALLOWED_NETWORKS lists 'not-a-network'"):
        fetch_feed(url="http://lms.example.edu/calendar.ics")


def test_a_redirect_to_a_private_address_is_refused(lms):
    lms.serve("/moved", status=302, headers={"Location": "http://169.254.169.254/latest/"})

    with pytest.raises(FeedError, match=re.escape("169.254.169.254")):
        fetch_feed(url=lms.url("/moved"))


def test_redirects_are_followed_and_each_hop_checked(lms):
    lms.serve("/old", status=301, headers={"Location": "/moodle.ics"})
    lms.serve_fixture("/moodle.ics", "moodle.ics")

    assert fetch_feed(url=lms.url("/old")).body == MOODLE


def test_a_redirect_loop_ends(lms):
    lms.serve("/loop", status=302, headers={"Location": "/loop"})

    with pytest.raises(FeedError, match="redirects more than 5 times"):
        fetch_feed(url=lms.url("/loop"))


def test_the_connection_goes_to_the_address_that_was_checked(lms, monkeypatch):
    """A name is resolved once, checked, and the request sent to that address.

    Nothing else can resolve lms.example.test, so the feed only arrives if
    the connection used the checked address; the Host header keeps the name.
    """
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host == "lms.example.test":
            return real("127.0.0.1", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(addresses.socket, "getaddrinfo", resolver)
    lms.serve_fixture("/moodle.ics", "moodle.ics")

    fetched = fetch_feed(url=f"http://lms.example.test:{lms.port}/moodle.ics")

    assert fetched.body == MOODLE
    assert lms.requests_to("/moodle.ics")[0]["Host"] == f"lms.example.test:{lms.port}"


def test_a_name_that_resolves_to_loopback_is_refused(no_allowlist, monkeypatch):
    monkeypatch.setattr(
        addresses.socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 80))],
    )

    with pytest.raises(FeedError, match=re.escape("lms.example.test resolves to 127.0.0.1")):
        fetch_feed(url="http://lms.example.test/calendar.ics")


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://lms.example.edu/calendar.ics", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http://user:secret@lms.example.edu/c.ics", "no user name or password"),
        ("http://lms.example.edu:99999/c.ics", "not valid"),
        ("http:///calendar.ics", "no host"),
    ],
)
def test_urls_that_are_not_plain_http_are_refused(url, words):
    with pytest.raises(FeedError, match=words):
        fetch_feed(url=url)


def test_conditional_get_sends_the_validators_and_304_is_not_modified(lms):
    lms.serve_fixture("/moodle.ics", "moodle.ics", headers={"ETag": '"abc"'})

    first = fetch_feed(url=lms.url("/moodle.ics"))
    second = fetch_feed(url=lms.url("/moodle.ics"), etag=first.etag)

    assert (first.not_modified, first.etag) == (False, '"abc"')
    assert second.not_modified
    assert second.body == b""


def test_a_gzipped_feed_is_decoded(lms):
    lms.serve("/moodle.ics", gzip.compress(MOODLE), headers={"Content-Encoding": "gzip"})

    assert fetch_feed(url=lms.url("/moodle.ics")).body == MOODLE
