"""Rewrite the stored timeline from the raw calendars, or check it against them."""

from django.core.management.base import BaseCommand, CommandError

from scheduling.timeline.services import timeline_differences, timeline_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the stored timeline (busy intervals per system) from jobs, blackouts, "
        "deadlines, allowed windows and the freeze. With --check, change nothing: print "
        "every difference and exit non-zero if there is one."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Compare the stored timeline with a rebuild instead of writing it.",
        )

    def handle(self, *args, check: bool = False, **options):
        if check:
            differences = timeline_differences(limit=50)
            if differences:
                for line in differences:
                    self.stdout.write(line)
                raise CommandError(
                    f"The stored timeline differs from a rebuild ({len(differences)} shown)."
                )
            self.stdout.write("The stored timeline matches a rebuild.")
            return
        written = timeline_rebuild()
        self.stdout.write(f"Rebuilt the timeline: {written} intervals.")
