"""Which addresses Clearway may connect to for a user: the guard against SSRF.

A deadline feed URL or a team's webhook URL is typed by a user, and the server
connects to it from inside the network, so a URL naming the cloud metadata
service (169.254.169.254), the database host or localhost would turn Clearway
into a proxy to them. Only globally routable addresses pass, unless
CLEARWAY_FEED_ALLOWED_NETWORKS lists the network (an on-premise LMS or chat
server, or the tests' local server). It lives in `scheduling` so that every app
can use it; `deadlines.feeds.addresses` re-exports it with feed wording. Addresses that
embed an IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64) are judged by it too.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class AddressRefused(Exception):
    """The host cannot be reached safely: unresolvable, private, or misconfigured."""


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# IPv6 prefixes whose last 32 bits are an IPv4 address that the network may
# translate to: NAT64's well-known prefix (RFC 6052; an IPv6-only cluster with
# DNS64 reaches 169.254.169.254 as 64:ff9b::a9fe:a9fe), SIIT's IPv4-translated
# addresses (RFC 2765) and the deprecated IPv4-compatible ones (RFC 4291).
# Python counts the first two as global, so they are judged by the IPv4 too.
_EMBEDS_IPV4 = [ipaddress.ip_network(n) for n in ("64:ff9b::/96", "::ffff:0:0:0/96", "::/96")]


def allowed_networks() -> list[Network]:
    networks = []
    for text in settings.CLEARWAY_FEED_ALLOWED_NETWORKS:
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise AddressRefused(
                f"CLEARWAY_FEED_ALLOWED_NETWORKS lists {text!r}, which is not a network "
                "such as 10.0.0.0/8; ask an administrator to fix it."
            ) from None
    return networks


def forms(address: Address) -> list[Address]:
    """The address and every IPv4 address it carries."""
    forms: list[Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            forms.append(address.ipv4_mapped)
        if address.sixtofour:
            forms.append(address.sixtofour)
        if address.teredo:
            forms.append(address.teredo[1])
        if any(address in network for network in _EMBEDS_IPV4):
            forms.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return forms


def is_allowed(address: Address, networks: list[Network]) -> bool:
    for form in forms(address):
        if any(form.version == net.version and form in net for net in networks):
            continue
        if form.is_global and not form.is_multicast:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped and form is address:
            continue  # judged by the IPv4 address it maps
        return False
    return True


def connectable(address: Address) -> Address:
    """Connect to an IPv4-mapped address over IPv4, where it was judged."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def check_literal_host(url: str) -> None:
    """Refuse a URL whose host is an address literal that is not allowed.

    Judged without DNS, so a form can say so at once; a host name is judged
    when connecting (`resolve`), since its answer may change in between.
    """
    try:
        host = urlsplit(url).hostname or ""
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not is_allowed(address, allowed_networks()):
        raise AddressRefused(
            f"{host} is a private, loopback, link-local or reserved address. Clearway "
            "connects to public addresses only (an administrator can allow a network with "
            "CLEARWAY_FEED_ALLOWED_NETWORKS)."
        )


def lookup(host: str, port: int) -> list[Address]:
    """The distinct addresses `host` names: itself if it is a literal, else its DNS answers."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise AddressRefused(f"The host {host} cannot be resolved: {exc}.") from None
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


def resolve(host: str, port: int, networks: list[Network]) -> list[Address]:
    """Every address `host` resolves to; any one that is not allowed refuses the host."""
    found = lookup(host, port)
    for address in found:
        if not is_allowed(address, networks):
            raise AddressRefused(
                f"The host {host} resolves to {address}, a private, loopback, "
                "link-local or reserved address. Clearway connects to public addresses only "
                "(an administrator can allow a network with CLEARWAY_FEED_ALLOWED_NETWORKS)."
            )
    if not found:
        raise AddressRefused(f"The host {host} has no address.")
    return found
