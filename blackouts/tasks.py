def refresh_horizon() -> int:
    from blackouts.services import blackouts_refresh_horizon

    return blackouts_refresh_horizon()
