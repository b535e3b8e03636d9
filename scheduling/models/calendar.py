import secrets

from django.db import models


def _token() -> str:
    return secrets.token_hex(8)


class CalendarChange(models.Model):
    """An append-only log of changes to any calendar (jobs, blackouts, deadlines, freeze).

    Its (last id, last token, row count) is the calendar version that keys cached busy
    windows: every change inserts a row, and a row committed late still changes
    the count. Inserts never wait on each other, unlike a single counter row.
    The random `token` keeps the version unique even where a rolled-back
    insert's id is handed out again (SQLite). The daily task prunes old rows.
    """

    at = models.DateTimeField(auto_now_add=True)
    token = models.CharField(max_length=16, default=_token, editable=False)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.reason}"
