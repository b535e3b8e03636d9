"""Sign-in limits: one count for every password check, per (account, address),
kept in the shared cache, with the address taken from a trusted proxy only."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from config.client_address import client_address
from tests.redis_cache import redis_caches, redis_keys

pytestmark = pytest.mark.django_db

ADMIN_LOGIN = "/admin/login/"
SITE_LOGIN = "/accounts/login/"


def sign_in(client, password, *, username="alice", path=SITE_LOGIN, **meta):
    meta.setdefault("REMOTE_ADDR", "10.0.0.7")
    return client.post(path, {"username": username, "password": password}, **meta)


def signed_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def test_failures_on_the_admin_login_and_the_site_login_share_one_count(requester, client):
    for _ in range(3):
        assert sign_in(client, "wrong", path=ADMIN_LOGIN).status_code == 200
    for _ in range(2):
        assert sign_in(client, "wrong").status_code == 200

    sixth = sign_in(client, "wrong", path=ADMIN_LOGIN)

    assert sixth.status_code == 429
    assert sign_in(client, "pw").status_code == 429


def test_the_admin_login_alone_refuses_the_sixth_attempt(admin, client):
    answers = [
        sign_in(client, "wrong", username="pat", path=ADMIN_LOGIN).status_code for _ in range(6)
    ]

    right = sign_in(client, "pw", username="pat", path=ADMIN_LOGIN)

    assert answers == [200] * 5 + [429]
    assert right.status_code == 429
    assert int(right["Retry-After"]) == 15 * 60
    assert "_auth_user_id" not in client.session


def test_a_stranger_cannot_lock_the_owner_out_from_another_address(requester, client):
    for _ in range(10):
        sign_in(client, "wrong", REMOTE_ADDR="203.0.113.66")

    assert signed_in(sign_in(Client(), "pw", REMOTE_ADDR="10.0.0.7"))


def test_the_lock_out_ends_after_15_minutes_even_if_the_attacker_keeps_trying(requester, client):
    with time_machine.travel("2030-12-01 09:00Z", tick=False) as clock:
        for _ in range(6):
            sign_in(client, "wrong")
        clock.shift(timedelta(minutes=10))
        assert sign_in(client, "wrong").status_code == 429
        clock.shift(timedelta(minutes=5, seconds=1))

        assert signed_in(sign_in(client, "pw"))


def test_a_successful_sign_in_resets_the_count(requester, client):
    for _ in range(4):
        sign_in(client, "wrong")
    assert signed_in(sign_in(client, "pw"))

    answers = [sign_in(Client(), "wrong").status_code for _ in range(5)]

    assert answers == [200] * 5


def test_the_username_is_counted_without_case_or_spaces(requester, client):
    for spelling in ["alice", "Alice", " ALICE", "alice ", "aLiCe"]:
        sign_in(client, "wrong", username=spelling)

    assert sign_in(client, "wrong", username="alice").status_code == 429


def test_x_forwarded_for_is_ignored_without_a_trusted_proxy(requester, client):
    answers = [
        sign_in(client, "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(6)
    ]

    assert answers[-1] == 429


def test_behind_a_trusted_proxy_each_client_address_has_its_own_count(requester, client, settings):
    settings.CLEARWAY_TRUSTED_PROXIES = ["10.9.0.0/16"]
    via_proxy = {"REMOTE_ADDR": "10.9.0.2"}
    for _ in range(6):
        sign_in(client, "wrong", HTTP_X_FORWARDED_FOR="198.51.100.1", **via_proxy)

    locked = sign_in(client, "pw", HTTP_X_FORWARDED_FOR="198.51.100.1", **via_proxy)
    other = sign_in(Client(), "pw", HTTP_X_FORWARDED_FOR="198.51.100.2", **via_proxy)

    assert locked.status_code == 429
    assert signed_in(other)


def test_a_client_cannot_escape_its_count_by_prepending_addresses(requester, client, settings):
    """The proxy appends the address it saw; whatever the client wrote before it is not believed."""
    settings.CLEARWAY_TRUSTED_PROXIES = ["10.9.0.2"]
    for n in range(6):
        forwarded = f"192.0.2.{n}, 198.51.100.1"
        sign_in(client, "wrong", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR="10.9.0.2")

    assert (
        sign_in(
            client, "pw", HTTP_X_FORWARDED_FOR="192.0.2.99, 198.51.100.1", REMOTE_ADDR="10.9.0.2"
        ).status_code
        == 429
    )


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "client"),
    [
        ("198.51.100.1", "", [], "198.51.100.1"),
        ("198.51.100.1", "192.0.2.5", [], "198.51.100.1"),
        ("198.51.100.1", "192.0.2.5", ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.2", "192.0.2.5", ["10.0.0.0/8"], "192.0.2.5"),
        ("10.0.0.2", "192.0.2.9, 192.0.2.5, 10.0.0.3", ["10.0.0.0/8"], "192.0.2.5"),
        ("10.0.0.2", "10.0.0.4, 10.0.0.3", ["10.0.0.0/8"], "10.0.0.4"),
        ("10.0.0.2", "not-an-address, 192.0.2.5", ["10.0.0.0/8"], "192.0.2.5"),
        ("10.0.0.2", "192.0.2.5, not-an-address", ["10.0.0.0/8"], "10.0.0.2"),
        ("10.0.0.2", "", ["10.0.0.0/8"], "10.0.0.2"),
        ("::1", "2001:db8::7", ["::1"], "2001:db8::7"),
    ],
)
def test_the_client_address_is_believed_only_from_trusted_proxies(
    rf, settings, remote, forwarded, trusted, client
):
    settings.CLEARWAY_TRUSTED_PROXIES = trusted
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == client


# --- shared cache (Redis) ----------------------------------------------------------------


def in_another_process(work):
    """Run `work` in a thread: Django gives each thread its own cache clients, so the
    Redis connection (and pool) is not the one this thread uses, as in a second worker."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", work()))
    thread.start()
    thread.join(timeout=30)
    return result["value"]


@pytest.mark.django_db(transaction=True)
def test_with_cache_url_the_count_is_shared_between_processes(requester, settings):
    with redis_caches(settings):
        first = [sign_in(Client(), "wrong").status_code for _ in range(3)]
        second = in_another_process(
            lambda: [sign_in(Client(), "wrong").status_code for _ in range(3)]
        )

        counted_in_redis = redis_keys()

        assert first == [200] * 3
        assert second == [200, 200, 429]
        assert sign_in(Client(), "pw").status_code == 429
        assert in_another_process(lambda: sign_in(Client(), "pw").status_code) == 429
        assert counted_in_redis, "the failures are counted in Redis, not in this process"


def test_wrong_old_passwords_on_the_admin_password_change_count_against_the_same_limit(
    admin, client
):
    client.force_login(admin)
    page = client.get("/admin/password_change/", REMOTE_ADDR="10.0.0.7")
    change = {
        "old_password": "wrong",
        "new_password1": "n3w-Secret!",
        "new_password2": "n3w-Secret!",
    }
    answers = [
        client.post("/admin/password_change/", change, REMOTE_ADDR="10.0.0.7").status_code
        for _ in range(6)
    ]

    assert page.status_code == 200
    assert answers == [200] * 5 + [429]
    assert sign_in(Client(), "pw", username="pat", path=ADMIN_LOGIN).status_code == 429


def test_the_admin_password_change_still_changes_the_password_with_the_right_old_one(admin, client):
    client.force_login(admin)
    change = {"old_password": "pw", "new_password1": "n3w-Secret!", "new_password2": "n3w-Secret!"}

    answer = client.post("/admin/password_change/", change, REMOTE_ADDR="10.0.0.7")

    assert answer.status_code == 302
    assert answer["Location"] == "/admin/password_change/done/"
    admin.refresh_from_db()
    assert admin.check_password("n3w-Secret!")


def test_an_ipv6_client_cannot_escape_its_count_by_changing_addresses_in_its_slash_64(
    requester, client
):
    """Every IPv6 host has a /64 of addresses to choose from: they count as one."""
    for n in range(6):
        sign_in(client, "wrong", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}")

    answer = sign_in(client, "pw", REMOTE_ADDR="2001:db8:1:2:ffff::99")

    assert answer.status_code == 429


def test_another_ipv6_network_keeps_its_own_count(requester, client):
    for n in range(6):
        sign_in(client, "wrong", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}")

    assert signed_in(sign_in(Client(), "pw", REMOTE_ADDR="2001:db8:1:3::1"))


def test_an_ipv4_client_seen_through_a_dual_stack_socket_shares_its_ipv4_count(requester, client):
    for _ in range(3):
        sign_in(client, "wrong", REMOTE_ADDR="198.51.100.7")
    for _ in range(3):
        sign_in(client, "wrong", REMOTE_ADDR="::ffff:198.51.100.7")

    assert sign_in(client, "pw", REMOTE_ADDR="198.51.100.7").status_code == 429
