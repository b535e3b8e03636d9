"""The single freeze switch becomes freezes with a start, an end, a rule and a scope.

An active switch is carried over as a freeze that started when it was switched on.
"""

from datetime import UTC, datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def carry_over(apps, schema_editor):
    Switch = apps.get_model("scheduling", "FreezeSwitch")
    Freeze = apps.get_model("scheduling", "Freeze")
    Interval = apps.get_model("scheduling", "TimelineInterval")
    # The timeline's row of the old switch gives way to the new freeze's.
    Interval.objects.filter(kind="freeze").delete()
    for switch in Switch.objects.filter(active=True):
        freeze = Freeze.objects.create(
            reason=switch.reason,
            start=switch.since,
            created_at=switch.since,
            created_by_id=switch.by_id,
        )
        by = switch.by.username if switch.by_id else ""
        Interval.objects.create(
            origin_id=None,
            kind="freeze",
            start=freeze.start,
            end=datetime(9999, 1, 1, tzinfo=UTC),
            source=f"freeze:{freeze.pk}",
            severity="refuse",
            title="Change freeze",
            message=f"A change freeze is on{' by ' + by if by else ''}: "
            f"{switch.reason or 'no reason given'}.",
            url="/freeze/",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0011_timeline"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameModel("Freeze", "FreezeSwitch"),
        migrations.CreateModel(
            name="Freeze",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("reason", models.TextField(blank=True)),
                ("start", models.DateTimeField()),
                ("end", models.DateTimeField(blank=True, null=True)),
                ("timezone", models.CharField(default="UTC", max_length=64)),
                ("rrule", models.CharField(blank=True, max_length=500)),
                ("created_at", models.DateTimeField()),
                ("lifted_at", models.DateTimeField(blank=True, null=True)),
                ("cancelled_at", models.DateTimeField(blank=True, null=True)),
                (
                    "cancelled_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "lifted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "systems",
                    models.ManyToManyField(
                        blank=True, related_name="freezes", to="scheduling.system"
                    ),
                ),
            ],
            options={
                "ordering": ["start", "pk"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("cancelled_at", None)),
                        fields=["start"],
                        name="freeze_live_idx",
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("end__isnull", True), ("start__lt", models.F("end")), _connector="OR"),
                        name="freeze_start_lt_end",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("rrule", ""), ("end__isnull", False), _connector="OR"),
                        name="freeze_recurring_has_end",
                    ),
                ],
            },
        ),
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.DeleteModel("FreezeSwitch"),
    ]
