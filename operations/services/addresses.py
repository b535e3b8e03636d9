"""Which addresses a monitored database may be at: the monitoring DSN's SSRF guard.

An administrator types the DSN and the worker connects to it from inside the
network, so a DSN naming the cloud metadata service or another internal
service would make Clearway probe it. Unlike a deadline feed, a monitored
database is normally on a private network, so the default allows the private
ranges (CLEARWAY_MONITOR_ALLOWED_NETWORKS, default 10.0.0.0/8, 172.16.0.0/12,
192.168.0.0/16, fc00::/7) and public addresses; loopback (Clearway's own
host), link-local and reserved ones need listing. Link-local and metadata
addresses are refused whatever the setting says: no database is served there.

The host is resolved once, checked, and the connection goes to the checked
address (`hostaddr`), so a DNS answer that changes in between cannot redirect it.
"""

import ipaddress
from dataclasses import dataclass

from django.conf import settings

from scheduling.addresses import Address, AddressRefused, Network, forms, is_allowed, lookup

SETTING = "CLEARWAY_MONITOR_ALLOWED_NETWORKS"
DEFAULT_PORT = 5432

# Link-local (where clouds serve instance metadata, 169.254.169.254) and AWS's
# IPv6 metadata address, which lies inside the private fc00::/7.
NEVER = [ipaddress.ip_network(n) for n in ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128")]


@dataclass(frozen=True)
class Target:
    """Where to connect: the DSN's host name (for TLS and .pgpass) and its checked address."""

    host: str
    address: Address
    port: int


def allowed_networks() -> list[Network]:
    networks = []
    for text in settings.CLEARWAY_MONITOR_ALLOWED_NETWORKS:
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise AddressRefused(
                f"{SETTING} lists {text!r}, which is not a network such as 10.0.0.0/8; "
                "ask an administrator to fix it."
            ) from None
    return networks


def _refusal(host: str, address: Address) -> AddressRefused:
    shown = host if host == str(address) else f"{host} resolves to {address}, which"
    return AddressRefused(
        f"{shown} is not an address a monitored database may be at: Clearway connects "
        f"to public addresses and to the networks in {SETTING} only (link-local and "
        "metadata addresses never)."
    )


def check(host: str, address: Address, networks: list[Network]) -> None:
    if any(form.version == net.version and form in net for form in forms(address) for net in NEVER):
        raise _refusal(host, address)
    if not is_allowed(address, networks):
        raise _refusal(host, address)


def _single(params: dict, key: str) -> str:
    value = str(params.get(key) or "").strip()
    if "," in value:
        raise AddressRefused(f"Give one {key} in the DSN, not a list.")
    return value


def target(params: dict) -> Target:
    """Resolve and check the DSN's host (or hostaddr); refuse before any connection."""
    host = _single(params, "host")
    hostaddr = _single(params, "hostaddr")
    port_text = _single(params, "port") or str(DEFAULT_PORT)
    try:
        port = int(port_text)
    except ValueError:
        raise AddressRefused(f"The port {port_text!r} is not a number.") from None
    if not (host or hostaddr):
        # libpq would fall back to a local socket or the worker's PGHOST.
        raise AddressRefused("Name the database's host in the DSN.")
    if host.startswith(("/", "@")) and not hostaddr:
        raise AddressRefused("A Unix socket is not a monitored database's address; name a host.")
    networks = allowed_networks()
    if hostaddr:
        # libpq connects to hostaddr and uses host only as the server's name.
        try:
            address = ipaddress.ip_address(hostaddr.split("%")[0])
        except ValueError:
            raise AddressRefused(f"hostaddr {hostaddr!r} is not an IP address.") from None
        check(hostaddr, address, networks)
        return Target(host=host, address=address, port=port)
    found = lookup(host, port)
    if not found:
        raise AddressRefused(f"The host {host} has no address.")
    # Any refused answer refuses the host: libpq would not be the one choosing.
    for address in found:
        check(host, address, networks)
    return Target(host=host, address=found[0], port=port)


def pinned(params: dict) -> dict:
    """Connection parameters that override the DSN's: the checked address, port and host."""
    where = target(params)
    address = where.address
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # judged as IPv4, so connect over IPv4
    return {
        "host": where.host or str(address),
        "hostaddr": str(address),
        "port": str(where.port),
    }
