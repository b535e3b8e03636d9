from django.db import migrations

GLOBAL_GIST = (
    "CREATE INDEX IF NOT EXISTS timeline_global_range_gist ON scheduling_timelineinterval "
    'USING gist (tstzrange("start", "end", \'[)\')) WHERE origin_id IS NULL'
)


def global_range_index(apps, schema_editor):
    """On PostgreSQL, the all-systems rows (freeze, global blackouts) by range alone.

    The (origin, range) GiST cannot seek to `origin_id IS NULL`: it scanned the
    whole range of every system for them.
    """
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GLOBAL_GIST)


def drop_global_range_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS timeline_global_range_gist")


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0013_standard_changes")]

    operations = [migrations.RunPython(global_range_index, drop_global_range_index)]
