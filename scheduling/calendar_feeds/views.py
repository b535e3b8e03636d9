"""The feed endpoints. Calendar apps cannot sign in: the token in the path is the key.

A conditional GET is answered from the token lookup and the (cached)
validator alone; otherwise the calendar is streamed page by page, gzipped
when the client accepts it. Secret addresses must not leak through Referer headers or
shared caches, hence `no-referrer` and `private`.
"""

import functools

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_safe

from scheduling import conflicts
from scheduling.calendar_feeds.assembly import feed_body, feed_names, feed_validator
from scheduling.calendar_feeds.sources import FeedQuery
from scheduling.calendar_feeds.tokens import feed_token_for_secret, feed_token_mark_used
from scheduling.errors import InvalidInput
from scheduling.models import System, Team
from scheduling.selectors import system_list

CONTENT_TYPE = "text/calendar; charset=utf-8"


def secret_address(view):
    """Every answer on a secret address, 404s and 400s included, keeps it private.

    SecurityMiddleware would otherwise send the site-wide `same-origin`.
    """

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex"
        return response

    return wrapper


def _not_found() -> JsonResponse:
    return JsonResponse({"code": "not_found", "message": "Not found."}, status=404)


def check_filters(*, systems: str, team: str) -> tuple[frozenset[str], str]:
    """Validate `?systems=a,b` and `?team=slug`; unknown names are an error, not []."""
    errors: dict[str, list[str]] = {}
    try:
        slugs = frozenset(system_list(raw=systems, required=False))
    except InvalidInput as exc:
        errors.update(exc.fields)
        slugs = frozenset()
    team = team.strip()
    # A NUL names no team, and PostgreSQL refuses to compare a text holding one.
    if team and ("\x00" in team or not Team.objects.filter(slug=team).exists()):
        errors["team"] = [f"There is no team {team!r}."]
    if errors:
        raise InvalidInput("The feed filters are not valid.", fields=errors)
    return slugs, team


@secret_address
@require_safe
@gzip_page
def token_feed(request: HttpRequest, secret: str, feed: str) -> HttpResponse:
    if feed not in feed_names():
        return _not_found()
    token = feed_token_for_secret(secret=secret)
    if token is None:
        return _not_found()
    try:
        systems, team = check_filters(
            systems=request.GET.get("systems", ""), team=request.GET.get("team", "")
        )
    except InvalidInput as exc:
        return JsonResponse(
            {"code": exc.code, "message": exc.message, "errors": exc.fields}, status=exc.status
        )
    now = timezone.now()
    feed_token_mark_used(token=token, now=now)
    # What reaches these systems through their dependencies belongs in their
    # feed (each event names the systems it is on), as in the web calendar; a
    # team's feed likewise holds what reaches the systems the team owns.
    reach = conflicts.impacted(systems) if systems else systems
    team_reach = conflicts.team_reach(team=team) if team else frozenset()
    query = FeedQuery(
        feed=feed, now=now, systems=reach, team=team, asked=systems, team_reach=team_reach
    )
    return _respond(request, query, cache_control="private, max-age=300")


@secret_address
@require_safe
@gzip_page
def public_feed(request: HttpRequest, system: str) -> HttpResponse:
    """Approved maintenance on one system, for anyone (off unless configured)."""
    if not settings.CLEARWAY_PUBLIC_CALENDARS or not System.objects.filter(slug=system).exists():
        return _not_found()
    query = FeedQuery(
        feed="maintenance", now=timezone.now(), systems=frozenset({system}), public=True
    )
    return _respond(request, query, cache_control="public, max-age=300")


def _respond(request: HttpRequest, query: FeedQuery, *, cache_control: str) -> HttpResponse:
    validator = feed_validator(query=query)
    last_modified = int(validator.last_modified.timestamp())
    response = get_conditional_response(request, etag=validator.etag, last_modified=last_modified)
    if response is None:
        if request.method == "HEAD":
            response = HttpResponse(content_type=CONTENT_TYPE)
        else:
            response = StreamingHttpResponse(feed_body(query=query), content_type=CONTENT_TYPE)
        response["Content-Disposition"] = f'inline; filename="clearway-{query.feed}.ics"'
    response["ETag"] = validator.etag
    response["Last-Modified"] = http_date(last_modified)
    response["Cache-Control"] = cache_control
    return response
