from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.data import DEMO_PASSWORD, USERS, load_demo


class Command(BaseCommand):
    help = "Load a realistic demo organisation (safe to run again: it adds only what is missing)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--yes",
            action="store_true",
            help="Load it although DEBUG is off (a demo deployment, never a real one).",
        )

    def handle(self, *args, yes: bool = False, **options):
        if not settings.DEBUG and not yes:
            # Its users, administrators among them, share a published password.
            raise CommandError(
                f"load_demo makes users whose password is {DEMO_PASSWORD!r}, an administrator "
                "among them: it runs with DEBUG=1 (as `make run` sets), or with --yes on a "
                "database meant only for a demo."
            )
        created = load_demo()
        if created:
            self.stdout.write(f"Demo data: created {len(created)} objects.")
        else:
            self.stdout.write("Demo data already loaded; nothing to do.")
        self.stdout.write(f"Demo users (password {DEMO_PASSWORD!r}):")
        for user in USERS:
            self.stdout.write(f"  {user.username:<6} {user.name}")
