"""Low: team webhooks go through the address guard, and keep no error bodies.

A webhook URL is typed by an administrator or a team, and Clearway posts to
it from inside the network. Like a feed, its host is resolved and checked
first: a private, loopback, link-local or metadata address is refused before
any connection. A receiver's error body (an internal error page) is not kept
on the Delivery, so the admin never shows it.
"""

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import urllib3.util.connection

from scheduling.models import Team
from scheduling.services.notifications import delivery_send, notify
from tests import builders

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Should the guard ever fail, this test still connects nowhere but loopback."""
    real = urllib3.util.connection.create_connection

    def create_connection(address, *args, **kwargs):
        if address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"the test tried to connect to {address[0]}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)


class Listener:
    """A loopback socket that counts connections, to prove none was made."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(5)
        self.server.settimeout(0.2)
        self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}/hook"

    def count(self) -> int:
        try:
            while True:
                conn, _ = self.server.accept()
                conn.close()
                self.connections += 1
        except TimeoutError:
            return self.connections


@pytest.fixture
def listener():
    found = Listener()
    yield found
    found.server.close()


def ping(url: str):
    team = builders.team("infra", email_addresses=[])
    # Stored directly: the guard must hold at sending time too (a name that
    # resolved publicly when the URL was saved may not any more).
    Team.objects.filter(pk=team.pk).update(webhook_url=url)
    team.refresh_from_db()
    [delivery] = notify(
        key="ping", event="ping", teams=[team], subject="Ping", text="Ping", data={}
    )
    delivery_send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    return delivery


def test_a_webhook_to_loopback_is_refused_before_connecting(listener, settings):
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = []

    delivery = ping(listener.url)

    assert delivery.status == "failed" and delivery.attempts == 1  # no retry can help
    assert "127.0.0.1" in delivery.last_error and "private, loopback" in delivery.last_error
    assert listener.count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://10.0.0.5:8080/hook",
        "http://0.0.0.0:9/hook",
    ],
)
def test_a_webhook_to_a_private_address_is_refused(url, settings):
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = []

    delivery = ping(url)

    assert "private, loopback" in delivery.last_error


def test_a_webhook_host_resolving_to_loopback_is_refused_before_connecting(
    listener, settings, monkeypatch
):
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = []
    port = listener.server.getsockname()[1]
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        return real("127.0.0.1" if host == "hooks.example.test" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)

    delivery = ping(f"http://hooks.example.test:{port}/hook")

    assert "resolves to 127.0.0.1" in delivery.last_error
    assert listener.count() == 0


def test_a_receivers_error_body_is_not_kept(settings):
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = ["127.0.0.0/8"]

    class Failing(BaseHTTPRequestHandler):
        def do_POST(self):
            body = b"Traceback: password=hunter2 at db.internal:5432"
            self.send_response(500)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        delivery = ping(f"http://127.0.0.1:{server.server_port}/hook")
    finally:
        server.shutdown()
        server.server_close()

    assert delivery.last_error.startswith("HTTP 500")
    assert "hunter2" not in delivery.last_error
