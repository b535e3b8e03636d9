"""The monitoring DSN's address guard: the host is resolved and checked before any
connection, the connection goes to the checked address, and the sampler re-checks.

DNS is faked (`fake_dns`); no test connects anywhere but 127.0.0.1. Tests that must
not connect at all replace psycopg.connect with one that fails the test.
"""

import socket
from types import SimpleNamespace

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from operations.models import DatabaseMonitor, Observation, ObservationKind
from operations.services.addresses import pinned
from operations.services.monitors import database_monitor_save
from operations.services.watch import monitors_sample_due
from scheduling.addresses import AddressRefused
from tests.operations import monitored
from tests.personas import as_user

pytestmark = pytest.mark.django_db

URL = "/api/v1/systems/grading-db/monitor"
DEFAULT_NETWORKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]


@pytest.fixture
def fake_dns(monkeypatch):
    """Names set in `answers` resolve to those addresses; their lookups are counted."""
    dns = SimpleNamespace(answers={}, lookups=[])
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in dns.answers:
            return real(host, port, *args, **kwargs)
        dns.lookups.append(host)
        return [
            (
                socket.AF_INET6 if ":" in ip else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (ip, port),
            )
            for ip in dns.answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return dns


@pytest.fixture
def no_connection(monkeypatch):
    def connect(*args, **kwargs):
        pytest.fail(f"psycopg.connect was called ({kwargs.get('hostaddr')})")

    monkeypatch.setattr(psycopg, "connect", connect)


def put(admin, dsn: str):
    return as_user(admin).put(URL, {"dsn": dsn}, format="json")


def test_a_host_resolving_to_the_metadata_address_is_a_400_before_connecting(
    admin, org, fake_dns, no_connection
):
    fake_dns.answers["metadata.test"] = ["169.254.169.254"]

    response = put(admin, "postgresql://monitor:pw@metadata.test:5432/grading")

    assert response.status_code == 400
    message = response.json()["errors"]["dsn"][0]
    assert "169.254.169.254" in message
    assert "CLEARWAY_MONITOR_ALLOWED_NETWORKS" in message
    assert not DatabaseMonitor.objects.exists()


def test_loopback_is_refused_when_the_setting_keeps_its_default(
    admin, org, settings, no_connection
):
    settings.CLEARWAY_MONITOR_ALLOWED_NETWORKS = DEFAULT_NETWORKS

    response = put(admin, "postgresql://postgres@127.0.0.1:5432/postgres")

    assert response.status_code == 400
    assert "127.0.0.1" in response.json()["errors"]["dsn"][0]


@pytest.mark.parametrize(
    "host",
    ["fd00:ec2::254", "fe80::1", "64:ff9b::a9fe:a9fe", "::ffff:169.254.169.254", "0.0.0.0"],
)
def test_metadata_link_local_and_unspecified_literals_are_refused(admin, org, no_connection, host):
    response = put(admin, f"host={host} port=5432 user=monitor dbname=grading")

    assert response.status_code == 400
    assert "CLEARWAY_MONITOR_ALLOWED_NETWORKS" in response.json()["errors"]["dsn"][0]


def test_listing_the_link_local_network_still_refuses_the_metadata_address(
    admin, org, settings, no_connection
):
    settings.CLEARWAY_MONITOR_ALLOWED_NETWORKS = ["169.254.0.0/16"]

    response = put(admin, "postgresql://monitor@169.254.169.254/grading")

    assert response.status_code == 400


def test_a_refused_hostaddr_is_refused_whatever_the_host_name(admin, org, fake_dns, no_connection):
    fake_dns.answers["grading.test"] = ["10.0.0.5"]

    response = put(admin, "host=grading.test hostaddr=169.254.169.254 user=m dbname=grading")

    assert response.status_code == 400
    assert "169.254.169.254" in response.json()["errors"]["dsn"][0]


def test_one_refused_answer_among_several_refuses_the_host(admin, org, fake_dns, no_connection):
    fake_dns.answers["mixed.test"] = ["10.0.0.5", "169.254.169.254"]

    response = put(admin, "postgresql://monitor@mixed.test/grading")

    assert response.status_code == 400
    assert "169.254.169.254" in response.json()["errors"]["dsn"][0]


@pytest.mark.parametrize(
    "dsn",
    [
        "dbname=grading user=monitor",
        "host=/var/run/postgresql dbname=grading",
        "host=@abstract dbname=grading",
        "host=10.0.0.1,169.254.169.254 dbname=grading",
    ],
)
def test_a_dsn_without_one_network_host_is_refused(admin, org, no_connection, dsn):
    response = put(admin, dsn)

    assert response.status_code == 400
    assert "dsn" in response.json()["errors"]


def test_a_malformed_setting_is_a_400_naming_it(admin, org, settings, no_connection):
    settings.CLEARWAY_MONITOR_ALLOWED_NETWORKS = ["not-a-network"]

    response = put(admin, "postgresql://monitor@10.0.0.1/grading")

    assert response.status_code == 400
    assert "CLEARWAY_MONITOR_ALLOWED_NETWORKS" in response.json()["errors"]["dsn"][0]


def test_private_and_public_addresses_pass_by_default_and_are_pinned(settings, fake_dns):
    settings.CLEARWAY_MONITOR_ALLOWED_NETWORKS = DEFAULT_NETWORKS
    fake_dns.answers["private.test"] = ["10.1.2.3"]
    fake_dns.answers["v6.test"] = ["fd12::5"]
    fake_dns.answers["public.test"] = ["93.184.216.34"]

    assert pinned({"host": "private.test", "port": "6432"}) == {
        "host": "private.test",
        "hostaddr": "10.1.2.3",
        "port": "6432",
    }
    assert pinned({"host": "v6.test"})["hostaddr"] == "fd12::5"
    assert pinned({"host": "public.test"})["hostaddr"] == "93.184.216.34"


def test_an_ipv4_mapped_address_is_judged_and_pinned_as_ipv4(settings):
    settings.CLEARWAY_MONITOR_ALLOWED_NETWORKS = DEFAULT_NETWORKS

    assert pinned({"host": "::ffff:10.0.0.9"})["hostaddr"] == "10.0.0.9"
    with pytest.raises(AddressRefused):
        pinned({"host": "::ffff:127.0.0.1"})


def test_the_connection_goes_to_the_address_checked_though_dns_changes_after(
    admin, org, settings, fake_dns, monkeypatch
):
    settings.CLEARWAY_WATCH_CONNECT_TIMEOUT = 2
    fake_dns.answers["rebind.test"] = ["127.0.0.1"]
    real_connect = psycopg.connect
    seen = []

    def connect(dsn, **kwargs):
        # Rebinding: DNS answers the metadata address once the check is done.
        fake_dns.answers["rebind.test"] = ["169.254.169.254"]
        seen.append(kwargs["hostaddr"])
        assert kwargs["hostaddr"] == "127.0.0.1"
        return real_connect(dsn, **kwargs)

    with monitored.monitored_database() as dsn, monkeypatch.context() as patch:
        patch.setattr(psycopg, "connect", connect)
        response = put(admin, make_conninfo(dsn, host="rebind.test"))

    assert response.status_code == 200
    assert seen == ["127.0.0.1"]
    assert fake_dns.lookups == ["rebind.test"]


def test_the_sampler_records_an_address_refused_after_saving_without_connecting(
    org, settings, fake_dns, monkeypatch
):
    settings.CLEARWAY_WATCH_CONNECT_TIMEOUT = 2
    fake_dns.answers["grading.test"] = ["127.0.0.1"]
    with monitored.monitored_database() as dsn:
        database_monitor_save(system="grading-db", dsn=make_conninfo(dsn, host="grading.test"))
    fake_dns.answers["grading.test"] = ["169.254.169.254"]
    monkeypatch.setattr(psycopg, "connect", lambda *a, **k: pytest.fail("connected"))
    DatabaseMonitor.objects.update(next_sample_at=None)

    assert monitors_sample_due() == 1

    observation = Observation.objects.get()
    assert observation.kind == ObservationKind.UNREACHABLE
    assert "169.254.169.254" in observation.detail
    assert "169.254.169.254" in DatabaseMonitor.objects.get().last_error
