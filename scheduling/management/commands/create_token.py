from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from scheduling.choices import TokenScope
from scheduling.errors import DomainError
from scheduling.models import Team
from scheduling.services.tokens import api_token_create

# A longer expiry overflows a date; a token meant to outlive this is one without --days.
MAX_DAYS = 3653


class Command(BaseCommand):
    help = "Create a team API token for CI and print it once."

    def add_arguments(self, parser):
        parser.add_argument("team", help="The team's slug.")
        parser.add_argument("name", help="What uses the token, e.g. 'deploy pipeline'.")
        parser.add_argument(
            "--scope",
            action="append",
            choices=TokenScope.values,
            dest="scopes",
            help="Repeat for several; default gate:read.",
        )
        parser.add_argument("--days", type=int, help="Expire after this many days.")

    def handle(self, *args, team, name, scopes, days, **options):
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1 (leave it out for no expiry).")
        owner = Team.objects.filter(slug=team).first()
        if owner is None:
            raise CommandError(f"There is no team {team!r}.")
        if days is not None and days > MAX_DAYS:
            raise CommandError(f"--days must be at most {MAX_DAYS:,} (ten years).")
        expires = timezone.now() + timedelta(days=days) if days is not None else None
        try:
            _, secret = api_token_create(
                team=owner, name=name, scopes=scopes or [TokenScope.GATE_READ], expires=expires
            )
        except DomainError as exc:
            raise CommandError(f"{exc.message} {exc.fields or ''}") from exc
        self.stdout.write(secret)
