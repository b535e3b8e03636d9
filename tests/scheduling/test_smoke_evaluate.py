from datetime import timedelta

from scheduling import conflicts
from tests.builders import at, deadline


def test_exclusive_job_before_a_2000_student_deadline_is_refused(grading_stack):
    deadline(due=at(12, 23, 59), cohort_size=2000, systems=["grading-api"])

    evaluation = conflicts.evaluate(
        systems=["grading-db"],
        start=at(12, 8),
        end=at(12, 8) + timedelta(hours=4),
        impact="exclusive_lock",
    )

    assert evaluation.decision == "refuse"
    assert evaluation.findings[0].kind == "deadline"
    assert "Project 3" in evaluation.findings[0].message
