"""The stored timeline: the busy picture per system, kept current by the services.

`build` turns busy windows into rows (pure), `services` writes them inside the
caller's transaction, `selectors` reads them back as the engine's windows or
as blocked intervals walked forward or backward from an instant, and `gaps`
asks the database for the first clear gaps between the blocking rows (slots).
"""
