"""Arrows point one way: operations builds on scheduling, never the reverse."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def test_scheduling_never_imports_operations():
    assert "operations" not in imported_modules("scheduling")


def test_operations_imports_no_demo_data():
    assert "demo" not in imported_modules("operations")
