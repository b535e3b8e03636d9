from django.apps import AppConfig


class DeadlinesConfig(AppConfig):
    name = "deadlines"
    verbose_name = "Deadlines"

    def ready(self) -> None:
        from scheduling.signals import team_renamed

        team_renamed.connect(_team_renamed, dispatch_uid="deadlines.team_renamed")


def _team_renamed(sender, *, team, **kwargs) -> None:
    from deadlines.services import deadlines_of_team_renamed

    deadlines_of_team_renamed(team=team)
