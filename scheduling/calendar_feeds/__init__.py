"""iCal feeds that calendar apps subscribe to (RFC 5545, written with icalendar).

- `tokens`: secret feed addresses per person (stored as digests).
- `sources`: what a feed source answers, and the queryset-backed base class
  that the maintenance (`jobs`), blackout and deadline sources share.
- `render`: one event or the calendar frame as iCalendar text.
- `stored`: each event's VEVENT text kept in the database (FeedText) with the
  stamp it was rendered from; rendered and stored when missing or stale.
- `assembly`: the validator (ETag, Last-Modified) and the streamed body, built
  from the stored texts.
- `views`, `urls`, `api`: HTTP.

`scheduling` never imports the blackouts or deadlines models: the sources are
listed in settings.CLEARWAY_FEED_SOURCES.
"""
