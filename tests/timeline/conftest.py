from tests.personas import (  # noqa: F401
    admin,
    clock,
    curriculum_staff,
    org,
    requester,
    reviewer,
)
