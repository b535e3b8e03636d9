from tests.personas import (  # noqa: F401
    admin,
    clock,
    colleague,
    curriculum_staff,
    exams_officer,
    org,
    outsider,
    requester,
    reviewer,
)
