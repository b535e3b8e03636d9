def refresh_horizon() -> int:
    """Recurring blackouts alone; scheduling.tasks.refresh_horizon rolls them daily with
    the allowed windows and freezes (settings.CLEARWAY_HORIZON_ROLLS)."""
    from blackouts.services import blackouts_refresh_horizon

    return blackouts_refresh_horizon()
