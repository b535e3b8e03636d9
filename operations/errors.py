"""Domain errors of the operations app, in scheduling's one family (mapped once to HTTP)."""

from scheduling.errors import DomainError


class GateClosed(DomainError):
    """A run was reported while the job's gate is closed: the same 423 as the gate."""

    status = 423
    code = "gate_closed"
