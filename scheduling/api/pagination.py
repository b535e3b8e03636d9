"""Every list's pages: ?limit=&offset=, with a largest page."""

from rest_framework.pagination import LimitOffsetPagination


class Pages(LimitOffsetPagination):
    """LimitOffsetPagination with a ceiling on `limit`.

    Without one, a 20-digit limit reached the database's LIMIT and overflowed
    into a 500; a larger limit is read as the largest page, as DRF does.
    """

    max_limit = 1000
