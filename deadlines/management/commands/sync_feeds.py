from django.core.management.base import BaseCommand, CommandError

from deadlines.feeds.sync import feed_sync
from deadlines.models import DeadlineFeed


class Command(BaseCommand):
    help = "Sync remote deadline feeds now: every enabled feed, or the one given with --feed."

    def add_arguments(self, parser):
        parser.add_argument("--feed", type=int, help="the id of one feed (synced even if disabled)")

    def handle(self, *args, feed: int | None = None, **options):
        if feed is not None:
            if not DeadlineFeed.objects.filter(pk=feed).exists():
                raise CommandError(f"There is no deadline feed {feed}.")
            ids = [feed]
        else:
            ids = list(DeadlineFeed.objects.filter(enabled=True).values_list("pk", flat=True))
        failed = 0
        for feed_id in ids:
            result = feed_sync(feed_id=feed_id)
            if not result.ok:
                failed += 1
                self.stderr.write(f"feed {feed_id}: failed: {result.error}")
            elif result.not_modified:
                self.stdout.write(f"feed {feed_id}: not modified")
            else:
                counts = ", ".join(f"{n} {what}" for what, n in result.changes.items())
                self.stdout.write(f"feed {feed_id}: {counts}")
            for warning in result.warnings:
                self.stdout.write(f"feed {feed_id}: skipped {warning}")
        if failed:
            raise CommandError(f"{failed} of {len(ids)} feed(s) failed; see above.")
