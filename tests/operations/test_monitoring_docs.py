"""docs/monitoring.md's alert rules and the Grafana dashboard query only series /metrics serves."""

import json
import re
from pathlib import Path

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs"
SERIES = re.compile(r"\bclearway_[a-z_]+\b")


def served(settings) -> set[str]:
    settings.CLEARWAY_METRICS_TOKEN = "t"
    text = Client(HTTP_AUTHORIZATION="Bearer t").get("/metrics").content.decode()
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
        if family.type == "counter":
            names.add(f"{family.name}_total")
    return names


def test_every_series_the_dashboard_plots_is_served(settings, org):
    dashboard = json.loads((DOCS / "grafana" / "clearway.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in SERIES.findall(target["expr"])
    }

    assert queried
    assert queried <= served(settings)


def test_every_series_the_alert_rules_use_is_served(settings, org):
    text = (DOCS / "monitoring.md").read_text()
    rules = text[text.index("## Alert rules") : text.index("## Grafana")]
    used = {name for expr in re.findall(r"expr: (.+)", rules) for name in SERIES.findall(expr)}

    assert len(used) >= 8
    assert used <= served(settings)
