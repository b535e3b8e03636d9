"""A local LMS for the feed tests: an HTTP server on 127.0.0.1 in a thread.

It serves the calendars in `fixtures/` (written in the shapes Moodle, Canvas
and Google publish) and each way a remote feed goes wrong: silence, a
trickle, errors, HTML, a cut-off body, a huge body, a gzip bomb.
"""

import http.server
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import time_machine

from tests import builders

FIXTURES = Path(__file__).parent / "fixtures"
ICS = "text/calendar; charset=utf-8"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Route:
    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    # normal | silent (never answers) | trickle (a byte at a time) | truncate (half the body)
    behaviour: str = "normal"


class LocalLMS:
    def __init__(self, server: http.server.ThreadingHTTPServer) -> None:
        self._server = server
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(
        self,
        path: str,
        body: bytes | str = b"",
        *,
        status: int = 200,
        content_type: str = ICS,
        headers: dict[str, str] | None = None,
        behaviour: str = "normal",
    ) -> str:
        """Answer GET `path` like this from now on; return its URL."""
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(
            data, status, {"Content-Type": content_type, **(headers or {})}, behaviour
        )
        return self.url(path)

    def serve_fixture(self, path: str, name: str, **kwargs) -> str:
        content_type = "application/json" if name.endswith(".json") else ICS
        return self.serve(path, fixture_bytes(name), content_type=content_type, **kwargs)

    def requests_to(self, path: str) -> list[dict[str, str]]:
        return [headers for requested, headers in self.requests if requested == path]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # keep pytest output quiet
        pass

    def do_GET(self):
        lms: LocalLMS = self.server.lms  # type: ignore[attr-defined]
        lms.requests.append((self.path, dict(self.headers)))
        self.close_connection = True
        route = lms.routes.get(self.path)
        if route is None:
            self._answer(404, {"Content-Type": "text/plain"}, b"no such calendar")
            return
        if route.behaviour == "silent":
            time.sleep(4)
            return
        etag = route.headers.get("ETag")
        if etag and self.headers.get("If-None-Match") == etag:
            self._answer(304, {"ETag": etag}, b"")
            return
        if route.behaviour == "trickle":
            self._trickle(route)
            return
        body = route.body
        if route.behaviour == "truncate":
            self._answer(route.status, route.headers, body[: len(body) // 2], length=len(body))
            return
        self._answer(route.status, route.headers, body)

    def _answer(self, status, headers, body, *, length=None):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body) if length is None else length))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self, route):
        self.send_response(200)
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        try:
            for byte in route.body[:200]:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass  # the client gave up, as it should


@pytest.fixture
def lms():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.lms = LocalLMS(server)  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.lms  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _feed_limits(settings):
    """The local LMS is on loopback, so its network is allowed; limits are small and fast."""
    settings.CLEARWAY_FEED_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.CLEARWAY_FEED_TIMEOUT = 1
    settings.CLEARWAY_FEED_MAX_BYTES = 100_000
    settings.CLEARWAY_FEED_MAX_EVENTS = 200


@pytest.fixture
def curriculum(grading_stack):
    """The curriculum team (it owns the feeds) and Carol, its member."""
    team = builders.team("curriculum", name="Curriculum")
    return {"team": team, "carol": builders.user("carol", team=team)}


@pytest.fixture
def clock():
    """The clock stopped at 2030-12-01 00:00 UTC, before every deadline in the fixtures."""
    moment = builders.at(1)
    with time_machine.travel(moment, tick=False):
        yield moment
