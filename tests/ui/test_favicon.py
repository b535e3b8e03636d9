"""Every page names a small icon of its own, so browsers stop asking for a missing one."""

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_every_page_links_the_icon_shipped_in_static(client):
    html = client.get("/accounts/login/").content.decode()

    assert '<link rel="icon" href="/static/clearway/favicon.ico"' in html
    assert finders.find("clearway/favicon.ico")


def test_favicon_ico_at_the_root_leads_to_the_static_icon(client):
    answer = client.get("/favicon.ico")

    assert answer.status_code == 301
    assert answer["Location"] == "/static/clearway/favicon.ico"
