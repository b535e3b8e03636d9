"""POST to an address a user typed, through the outgoing-address guard.

The host is resolved and checked (scheduling.addresses) before any
connection, and the connection goes to the checked address, so a DNS answer
that changes in between (rebinding) cannot reach inside. HTTPS still verifies
the certificate against the URL's own host name. Redirects are not followed.
"""

from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from scheduling.addresses import AddressRefused, allowed_networks, connectable, resolve


class PinnedAdapter(HTTPAdapter):
    """Sends to the checked IP address while TLS verifies the URL's own host name."""

    def __init__(self, hostname: str) -> None:
        self._hostname = hostname
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        if host_params["scheme"] == "https":
            pool_kwargs["server_hostname"] = self._hostname
            pool_kwargs["assert_hostname"] = self._hostname
        return host_params, pool_kwargs


def guarded_post(
    url: str, *, body: bytes, headers: dict[str, str], timeout: tuple[float, float]
) -> requests.Response:
    """POST `body` to `url` if its host resolves only to allowed addresses.

    Raises AddressRefused before connecting when it does not.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(f"The URL is not valid: {exc}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("The URL must start with http:// or https:// and name a host.")
    default = 443 if parts.scheme == "https" else 80
    port = port or default
    address = connectable(resolve(parts.hostname, port, allowed_networks())[0])
    literal = f"[{address}]" if address.version == 6 else str(address)
    suffix = "" if port == default else f":{port}"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    pinned = urlunsplit((parts.scheme, literal + suffix, parts.path or "/", parts.query, ""))
    with requests.Session() as session:
        session.trust_env = False  # no proxies or .netrc from the environment
        session.mount(f"{parts.scheme}://", PinnedAdapter(parts.hostname))
        return session.post(
            pinned,
            data=body,
            headers={**headers, "Host": host + suffix},
            timeout=timeout,
            allow_redirects=False,
        )
