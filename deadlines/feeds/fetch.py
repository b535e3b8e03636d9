"""Download a feed defensively: a remote LMS may be down, slow, huge or hostile.

- Every hop's host is resolved and checked (feeds.addresses), then the
  connection goes to that checked address, so a DNS answer that changes
  between the check and the connection (rebinding) cannot reach inside.
  HTTPS still verifies the certificate against the feed's host name.
- Redirects are followed by hand, each target checked the same way.
- Connect and read timeouts, plus one deadline for the whole download: a
  server that trickles a byte a second never trips a read timeout.
- At most CLEARWAY_FEED_MAX_BYTES, counted after gzip/deflate decoding and
  read in chunks (`read1` returns what has arrived, and urllib3 bounds each
  decoded chunk), so a gzip bomb stops at the limit, not in memory.
- Conditional GET: the last good response's ETag / Last-Modified; 304 means
  nothing changed.
"""

import http.client
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3
from django.conf import settings

from deadlines.feeds.addresses import Address, allowed_networks, connectable, resolve
from deadlines.feeds.errors import FeedError
from scheduling.outbound import PinnedAdapter

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
USER_AGENT = "Clearway deadline feed sync"


@dataclass(frozen=True, slots=True)
class Fetched:
    not_modified: bool
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True, slots=True)
class _Target:
    url: str
    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> "_Target":
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise FeedError(f"The feed URL is not valid: {exc}.") from None
        if parts.scheme not in ("http", "https"):
            raise FeedError("The feed URL must start with http:// or https://.")
        if not parts.hostname:
            raise FeedError("The feed URL has no host.")
        if parts.username or parts.password:
            raise FeedError("Put no user name or password in the feed URL; use a token URL.")
        default = 443 if parts.scheme == "https" else 80
        return cls(url=url, scheme=parts.scheme, host=parts.hostname, port=port or default)

    def pinned(self, address: Address) -> tuple[str, str]:
        """The URL aimed at `address`, and the Host header that keeps the real name."""
        parts = urlsplit(self.url)
        literal = f"[{address}]" if address.version == 6 else str(address)
        default = 443 if self.scheme == "https" else 80
        suffix = "" if self.port == default else f":{self.port}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        url = urlunsplit((self.scheme, literal + suffix, parts.path or "/", parts.query, ""))
        return url, host + suffix


def fetch_feed(*, url: str, etag: str = "", last_modified: str = "") -> Fetched:
    timeout = settings.CLEARWAY_FEED_TIMEOUT
    deadline = time.monotonic() + timeout
    networks = allowed_networks()
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "text/calendar, application/json;q=0.9, */*;q=0.5",
        "Accept-Encoding": "gzip, deflate",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    with requests.Session() as session:
        session.trust_env = False  # no proxies or .netrc from the environment
        for _ in range(MAX_REDIRECTS + 1):
            target = _Target.parse(url)
            address = connectable(resolve(target.host, target.port, networks)[0])
            response = _get(session, target, address, headers, timeout=timeout)
            try:
                location = response.headers.get("Location")
                if response.is_redirect and location:
                    url = urljoin(target.url, location)
                    continue
                conditional = bool(etag or last_modified)
                return _answer(response, deadline=deadline, conditional=conditional)
            finally:
                response.close()
    raise FeedError(f"The feed redirects more than {MAX_REDIRECTS} times.")


def _get(
    session: requests.Session, target: _Target, address: Address, headers: dict, *, timeout: float
) -> requests.Response:
    url, host = target.pinned(address)
    prefix = f"{target.scheme}://"
    if prefix in session.adapters:
        session.adapters[prefix].close()  # the previous hop's, pinned elsewhere
    session.mount(prefix, PinnedAdapter(target.host))
    try:
        return session.get(
            url,
            headers={**headers, "Host": host},
            timeout=(min(timeout, 10), timeout),
            allow_redirects=False,
            stream=True,
        )
    except requests.exceptions.ConnectTimeout:
        raise FeedError(f"{target.host} did not accept a connection in time.") from None
    except requests.exceptions.ReadTimeout:
        raise FeedError(f"{target.host} did not answer within {timeout} s.") from None
    except requests.exceptions.SSLError as exc:
        raise FeedError(f"TLS with {target.host} failed: {_reason(exc)}.") from None
    except requests.exceptions.ConnectionError as exc:
        raise FeedError(f"Could not connect to {target.host}: {_reason(exc)}.") from None
    except requests.RequestException as exc:
        raise FeedError(f"The request to {target.host} failed: {_reason(exc)}.") from None


def _reason(exc: BaseException) -> str:
    """The innermost cause, which names the problem (refused, reset, certificate ...)."""
    for _ in range(10):
        inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((arg for arg in exc.args if isinstance(arg, BaseException)), None)
        if inner is None:
            break
        exc = inner
    return str(exc).split("] ", 1)[-1][:300]


def _answer(response: requests.Response, *, deadline: float, conditional: bool) -> Fetched:
    status = response.status_code
    if status == 304 and conditional:
        return Fetched(not_modified=True)
    if status != 200:
        reason = response.reason or http.client.responses.get(status, "")
        raise FeedError(f"The feed answered HTTP {status} {reason}".rstrip() + ".")
    limit = settings.CLEARWAY_FEED_MAX_BYTES
    declared = response.headers.get("Content-Length", "")
    if declared.isdecimal() and int(declared) > limit:
        raise FeedError(f"The feed is {int(declared):,} bytes; the limit is {limit:,}.")
    return Fetched(
        not_modified=False,
        body=_read(response, limit=limit, deadline=deadline),
        etag=response.headers.get("ETag", "")[:500],
        last_modified=response.headers.get("Last-Modified", "")[:100],
    )


def _read(response: requests.Response, *, limit: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise FeedError(
                    f"The feed took longer than {settings.CLEARWAY_FEED_TIMEOUT} s to download."
                )
            chunk = response.raw.read1(CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise FeedError(f"The feed is larger than the limit of {limit:,} bytes.")
            chunks.append(chunk)
    except urllib3.exceptions.DecodeError as exc:
        raise FeedError(f"The feed's compressed body is broken: {_reason(exc)}.") from None
    except urllib3.exceptions.ReadTimeoutError:
        raise FeedError(
            f"The feed stopped sending data for {settings.CLEARWAY_FEED_TIMEOUT} s."
        ) from None
    except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
        raise FeedError(f"The download was cut off: {_reason(exc)}.") from None
    return b"".join(chunks)
