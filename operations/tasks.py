"""Background work of the operations app: thin django-q2 tasks calling services.

Each is one cluster-wide django-q2 schedule (see the migrations); the rows it
works on carry their own `next_*_at`, claimed one at a time.
"""


def watch_runs() -> int:
    """Every minute: mark silent runs lost, notify overruns, ask runs to stop."""
    from operations.services.runs import runs_watch_due

    return runs_watch_due()


def watch_databases() -> int:
    """Every minute: sample the monitored databases that are due (see services.watch)."""
    from operations.services.watch import monitors_sample_rounds

    return monitors_sample_rounds()


def check_timeline() -> int:
    """Hourly: compare the stored timeline with a rebuild; /metrics reports the outcome."""
    from operations.services.timeline import timeline_check_record

    return timeline_check_record().differences
