"""The bounds every way into deadlines shares: forms, API, files, feeds, models.

Kept free of imports so models, forms and parsers can all use it.
"""

# The one cohort-size bound. Far beyond any real cohort and far inside the
# PostgreSQL integer column (2,147,483,647): a size above the column's range
# was a 500 on PostgreSQL, and summed loads must not overflow either. The
# models carry it as a validator and a check constraint, so the column says it too.
COHORT_SIZE_MAX = 10_000_000


def is_cohort_size(value: object) -> bool:
    """Whether `value` is a whole number of students from 1 to COHORT_SIZE_MAX."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= COHORT_SIZE_MAX


def cohort_size_from_text(text: str) -> int | None:
    """The cohort size a file's text names, or None when it names none in range.

    The digits are counted before int(): Python refuses to convert more than
    4,300 of them (a ValueError, which was a 500), and a size past the bound
    has more than its eight digits anyway.
    """
    text = text.lstrip("0") or text
    if not text.isdecimal() or len(text) > len(str(COHORT_SIZE_MAX)):
        return None
    size = int(text)
    return size if 1 <= size <= COHORT_SIZE_MAX else None


COHORT_SIZE_RULE = f"The cohort size must be a whole number from 1 to {COHORT_SIZE_MAX:,}."
