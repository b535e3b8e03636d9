"""The outgoing-address guard (scheduling.addresses), raising FeedError for feeds.

The sync shows a FeedError's message on the feed, so a refused host is
reported there like any other reason the feed is unusable.
"""

import socket  # noqa: F401  (tests patch addresses.socket.getaddrinfo)

from deadlines.feeds.errors import FeedError
from scheduling import addresses as _guard
from scheduling.addresses import Address, Network, connectable, is_allowed

__all__ = ["Address", "Network", "allowed_networks", "connectable", "is_allowed", "resolve"]


def allowed_networks() -> list[Network]:
    try:
        return _guard.allowed_networks()
    except _guard.AddressRefused as exc:
        raise FeedError(str(exc)) from None


def resolve(host: str, port: int, networks: list[Network]) -> list[Address]:
    try:
        return _guard.resolve(host, port, networks)
    except _guard.AddressRefused as exc:
        raise FeedError(str(exc).replace("The host", "The feed's host", 1)) from None
