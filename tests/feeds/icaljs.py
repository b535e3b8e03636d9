"""Run ical.js (the parser behind Thunderbird and many web calendars) from a test.

The npm package is installed on first use into tests/feeds/icaljs/node_modules
(git-ignored; `.ci/run` installs it up front). Without node the tests skip,
saying so; a failed install is a failure, not a skip.
"""

import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

FOLDER = Path(__file__).parent / "icaljs"


def ensure_installed() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip(
            "node is not installed: the ical.js round trip needs it (apt-get install nodejs)"
        )
    if not (FOLDER / "node_modules" / "ical.js" / "package.json").exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: it installs ical.js (apt-get install npm)")
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(FOLDER),
                "--no-audit",
                "--no-fund",
                "--no-package-lock",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return node


def expand(ics: bytes, start: datetime, end: datetime) -> set[tuple[str, datetime, datetime]]:
    """(UID, start, end) in UTC of each occurrence ical.js finds starting in [start, end)."""
    node = ensure_installed()
    done = subprocess.run(
        [node, str(FOLDER / "expand.mjs"), start.isoformat(), end.isoformat()],
        input=ics,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return {
        (uid, datetime.fromisoformat(begin), datetime.fromisoformat(finish))
        for uid, begin, finish in json.loads(done.stdout)
    }


def instants(vtimezone: bytes, locals_: list[datetime]) -> list[datetime]:
    """The UTC instant ical.js gives each naive wall time read in the VTIMEZONE."""
    node = ensure_installed()
    done = subprocess.run(
        [node, str(FOLDER / "instants.mjs")],
        input=json.dumps([vtimezone.decode(), [moment.isoformat() for moment in locals_]]).encode(),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return [datetime.fromisoformat(value) for value in json.loads(done.stdout)]
