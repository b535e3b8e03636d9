from django.core.management.base import BaseCommand, CommandError

from demo.dataset import generate
from scheduling.models import System


class Command(BaseCommand):
    help = "Generate a benchmark dataset (scale 1.0: 500 systems, 50k jobs, 100k deadlines)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args, scale, seed, **options):
        if not 0 < scale <= 10:
            raise CommandError("--scale must be in (0, 10].")
        if System.objects.filter(slug__startswith="sys-").exists():
            raise CommandError("A generated dataset is already here; use a fresh database.")
        counts = generate(scale=scale, seed=seed)
        self.stdout.write(", ".join(f"{value:,} {name}" for name, value in counts.items()))
