"""Signals scheduling sends to the apps built on it, so the arrows stay one way.

`scheduling` may not import `blackouts` or `deadlines`; when one of its own
writes changes text those apps have stored (a team's name in a blackout's
message, its slug on a deadline's traffic), it says so here and they rewrite
their part, inside the same transaction.
"""

from django.dispatch import Signal

# Sent inside the transaction that renamed a team (its name or its slug),
# with `team`, already saved.
team_renamed = Signal()
