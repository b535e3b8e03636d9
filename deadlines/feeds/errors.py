class FeedError(Exception):
    """The whole feed is unusable (down, too large, not a calendar ...).

    The sync changes no deadline and shows this message on the feed, so it
    says what went wrong in the words of the person who owns the feed.
    """
