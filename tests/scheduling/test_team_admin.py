from html import unescape

import pytest

from scheduling.models import Team
from tests import builders


def test_the_admin_refuses_a_team_name_with_a_line_break(admin_client):
    infra = builders.team("infra", name="Infra")
    page = admin_client.post(
        f"/admin/scheduling/team/{infra.pk}/change/",
        {
            "name": "Infra\r\nBcc: someone",
            "slug": infra.slug,
            "webhook_url": "",
            "webhook_format": "clearway",
        },
    )

    assert page.status_code == 200  # the form again, with the error
    assert "Use one line of text" in page.content.decode()
    assert Team.objects.get(pk=infra.pk).name == infra.name


def post_addresses(admin_client, team: Team, addresses: str):
    return admin_client.post(
        f"/admin/scheduling/team/{team.pk}/change/",
        {
            "name": team.name,
            "slug": team.slug,
            "email_addresses": addresses,
            "webhook_url": "",
            "webhook_format": "clearway",
        },
    )


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        # A string was split into one "address" per character: o, p, s, @, ...
        ('"ops@example.org"', "a list of email addresses"),
        ('{"ops": "ops@example.org"}', "a list of email addresses"),
        ("[42]", "42 is not an email address"),
        ('["not an address"]', "'not an address' is not an email address"),
    ],
    ids=["a-string", "an-object", "a-number", "not-an-address"],
)
def test_the_admin_refuses_email_addresses_that_are_not_a_list_of_addresses(
    admin_client, typed, words
):
    infra = builders.team("infra", name="Infra")

    page = post_addresses(admin_client, infra, typed)

    assert page.status_code == 200  # the form again, with the error
    assert words in unescape(page.content.decode())
    assert Team.objects.get(pk=infra.pk).email_addresses == ["infra@example.org"]


def test_the_admin_saves_a_list_of_email_addresses(admin_client):
    infra = builders.team("infra", name="Infra")

    page = post_addresses(admin_client, infra, '["ops@example.org", "dba@example.org"]')

    assert page.status_code == 302
    assert Team.objects.get(pk=infra.pk).email_addresses == ["ops@example.org", "dba@example.org"]
