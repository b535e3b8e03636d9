"""Sizes that keep the code readable (STYLE.md): no application module over 500
lines, no function over 60. A split, not a raised limit, is the fix."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("blackouts", "config", "deadlines", "demo", "integrations", "operations", "scheduling")
MODULE_LINES = 500
FUNCTION_LINES = 60


def application_modules() -> list[Path]:
    return [
        path
        for app in APPS
        for path in sorted((ROOT / app).glob("**/*.py"))
        if "migrations" not in path.parts
    ]


def test_the_application_modules_are_found():
    assert len(application_modules()) > 100


def test_no_module_is_over_500_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for path in application_modules()
        if (lines := path.read_text().count("\n")) > MODULE_LINES
    }

    assert long == {}


def test_no_function_is_over_60_lines():
    long = {
        f"{path.relative_to(ROOT)}:{node.name}": node.end_lineno - node.lineno + 1
        for path in application_modules()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > FUNCTION_LINES
    }

    assert long == {}
