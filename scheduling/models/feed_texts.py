from django.db import models


class FeedText(models.Model):
    """One feed row's rendered VEVENT text, kept so that no process renders it twice.

    Keyed generically by the feed source's `kind` and the row's id (and whether
    it is the public variant), so `scheduling` stores the texts of blackouts and
    deadlines without importing them. `stamp` is a digest of everything the text
    was rendered from (the row's change stamps, the names it shows, the render
    format and site): a feed serves a text only when it equals the stamp it
    computes for the row now, and renders the row again otherwise.
    """

    kind = models.CharField(max_length=20)
    public = models.BooleanField(default=False)
    row_id = models.BigIntegerField()
    stamp = models.CharField(max_length=32)
    text = models.TextField()

    class Meta:
        constraints = [
            # The feed's page query looks texts up by (kind, public, row id).
            models.UniqueConstraint(
                fields=["kind", "public", "row_id"], name="feed_text_one_per_row"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.row_id}{' (public)' if self.public else ''}"
