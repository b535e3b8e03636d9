"""The README's links and document paths point at files inside the repository."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_relative_link_in_the_readme_exists_in_the_repository():
    text = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)#\s]+)\)", text) + re.findall(
        r"`((?:docs|\.\./)[^`\s]*\.md)`", text
    )
    relative = [t for t in targets if "://" not in t]

    assert relative, "the README links no document"
    outside = [t for t in relative if not (ROOT / t).resolve().is_relative_to(ROOT)]
    missing = [t for t in relative if not (ROOT / t).exists()]
    assert (outside, missing) == ([], [])
