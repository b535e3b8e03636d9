from django.core.management.base import BaseCommand

from demo.data import DEMO_PASSWORD, USERS, load_demo


class Command(BaseCommand):
    help = "Load a realistic demo organisation (safe to run again: it adds only what is missing)."

    def handle(self, *args, **options):
        created = load_demo()
        if created:
            self.stdout.write(f"Demo data: created {len(created)} objects.")
        else:
            self.stdout.write("Demo data already loaded; nothing to do.")
        self.stdout.write(f"Demo users (password {DEMO_PASSWORD!r}):")
        for user in USERS:
            self.stdout.write(f"  {user.username:<6} {user.name}")
