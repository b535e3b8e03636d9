"""Links that work outside Clearway's pages: a page's path under SITE_URL.

Findings and reasons carry the path of the page they are about
(`/deadlines/7/`); pages link it as is, while API answers, emails and
webhooks are read elsewhere and need the whole address.
"""

from django.conf import settings


def site_link(url: str) -> str:
    """`url` under SITE_URL when it is a path on this site; anything else unchanged."""
    if url.startswith("/") and not url.startswith("//"):
        return f"{settings.SITE_URL}{url}"
    return url
