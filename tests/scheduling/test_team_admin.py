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
