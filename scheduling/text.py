"""One-line text fields (titles, names): no control characters.

A CR/LF in a job title went into every email subject about the job, where
Django refuses it as a header injection, so each of those emails failed for
good. Titles and names are refused with a field message when they hold a
control character, a line or paragraph separator, or a bidirectional
override (which makes a title read differently from what it says); mail
headers are made safe anyway (`header_safe`).
"""

import unicodedata

from scheduling.errors import InvalidInput

_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
MESSAGE = "Use one line of text, without control characters."


def is_one_line(value: str) -> bool:
    return not any(
        unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS for char in value
    )


def is_blank(value: str | None) -> bool:
    """Nothing a reader sees: white space and invisible format characters only.

    A title of zero-width spaces or joiners (U+200B-U+200D, U+2060, U+FEFF,
    all format characters) passed `not value.strip()` and showed as an empty
    line in every list, calendar and email.
    """
    return all(char.isspace() or unicodedata.category(char) == "Cf" for char in value or "")


def title_problem(title: str, *, noun: str) -> str | None:
    """Why `title` cannot title a `noun` (blank, or not one line); None when it can."""
    if is_blank(title):
        return f"Give the {noun} a title."
    if not is_one_line(title):
        return MESSAGE
    return None


def check_one_line(message: str = "The text is not valid.", **fields: str | None) -> None:
    """Raise InvalidInput naming each field that is not one line of plain text."""
    errors = {
        field: [MESSAGE] for field, value in fields.items() if value and not is_one_line(value)
    }
    if errors:
        raise InvalidInput(message, fields=errors)


def header_safe(value: str) -> str:
    """`value` as one line for a mail header: control characters become spaces."""
    cleaned = "".join(" " if not is_one_line(char) else char for char in value)
    return " ".join(cleaned.split())
