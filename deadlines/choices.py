"""The fixed vocabularies of deadlines and their feeds."""

from django.db import models


class DeadlineSource(models.TextChoices):
    MANUAL = "manual", "Published in Clearway"
    FEED = "feed", "Remote feed"
    UPLOAD = "upload", "Uploaded file"


class FeedFormat(models.TextChoices):
    ICS = "ics", "iCalendar (.ics)"
    JSON = "json", "JSON"
