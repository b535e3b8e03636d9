"""The client's address: REMOTE_ADDR, or what a trusted proxy says it is.

X-Forwarded-For is anyone's to write, so it is believed only as far as the
hops Clearway trusts (CLEARWAY_TRUSTED_PROXIES): read from the right, each
hop added by a trusted proxy is skipped, and the first address a trusted
proxy saw connecting is the client. Without trusted proxies the header is
ignored, so nobody can pick the address a sign-in limit counts against.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

from config.shared_state import Network, trusted_proxies


@lru_cache(maxsize=8)
def _networks(raw: tuple[str, ...]) -> tuple[Network, ...]:
    return trusted_proxies(list(raw))


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    networks = _networks(tuple(settings.CLEARWAY_TRUSTED_PROXIES))
    if not networks or not _trusted(remote, networks):
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    client = remote
    for hop in reversed([hop for hop in hops if hop]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            # A trusted proxy passed on something that is no address: stop at
            # the last hop known good rather than count against a made-up one.
            return client
        client = hop
        if not _trusted(hop, networks):
            return hop
    return client


def counted_address(request: HttpRequest) -> str:
    """The client address that limits count against (sign-in limits, throttles).

    An IPv6 host picks any address in its /64 at will, so the /64 is counted
    as one client; an IPv4 client seen through a dual-stack socket
    (::ffff:198.51.100.7) counts as its IPv4 address.
    """
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return address
