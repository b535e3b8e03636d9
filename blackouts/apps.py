from django.apps import AppConfig


class BlackoutsConfig(AppConfig):
    name = "blackouts"
    verbose_name = "Blackouts"

    def ready(self) -> None:
        from scheduling.signals import team_renamed

        team_renamed.connect(_team_renamed, dispatch_uid="blackouts.team_renamed")


def _team_renamed(sender, *, team, **kwargs) -> None:
    from blackouts.services import blackouts_of_team_renamed

    blackouts_of_team_renamed(team=team)
