"""The shared calendar: week, month and a per-system timeline, in the viewer's zone."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from scheduling import conflicts
from scheduling.calendar_feeds.tokens import feed_tokens_of
from scheduling.engine import BusyWindow
from scheduling.forms import ZoneForm
from scheduling.models import System, Team
from scheduling.timeline.selectors import reach_of
from scheduling.views import calendar_data as data
from scheduling.views.common import ZONE_SESSION_KEY, viewer_zone, viewer_zone_name

VIEWS = ("week", "month", "timeline")
TIMELINE_DAYS = 28


def _day_param(raw: str | None, today: date) -> date:
    try:
        day = date.fromisoformat(raw) if raw else today
    except ValueError:
        return today  # a mistyped ?date= shows today rather than an error page
    # Far from today the arithmetic below would leave the calendar (year 1 or 9999).
    return day if abs((day - today).days) < 36_500 else today


def _range(view: str, anchor: date) -> tuple[date, int, date, date]:
    """First shown day, number of days, and the previous and next anchors."""
    if view == "month":
        first_of_month = anchor.replace(day=1)
        first = first_of_month - timedelta(days=first_of_month.weekday())
        following = (first_of_month + timedelta(days=32)).replace(day=1)
        last = following - timedelta(days=1)
        count = (last - first).days + 1 + (6 - last.weekday())
        previous = (first_of_month - timedelta(days=1)).replace(day=1)
        return first, count, previous, following
    if view == "timeline":
        step = timedelta(days=TIMELINE_DAYS)
        return anchor, TIMELINE_DAYS, anchor - step, anchor + step
    first = anchor - timedelta(days=anchor.weekday())
    return first, 7, first - timedelta(days=7), first + timedelta(days=7)


def _known(chosen: str, slugs: set[str]) -> str:
    return chosen if chosen in slugs else ""


def _shown(catalogue: list[System], *, system: str, team: str):
    """The systems the filters pick, and the chosen team's systems."""
    shown = [s for s in catalogue if not system or s.slug == system]
    team_systems = frozenset(s.slug for s in catalogue if s.team.slug == team)
    if team and team_systems and not system:
        shown = [s for s in shown if s.slug in team_systems]
    return shown, team_systems


def _team_reach(team_systems: frozenset[str], slugs: frozenset[str], reach: frozenset[str]):
    """What reaches the team's systems: `reach` itself unless a system is chosen too."""
    if not team_systems:
        return frozenset()
    return reach if team_systems == slugs else conflicts.impacted(team_systems)


def _reaches(reach: frozenset[str], *, slugs: frozenset[str]) -> dict[str, frozenset[str]]:
    """For each shown system, itself and its dependents: what reaches it.

    The closure read that gave `reach` gives each system's share too; only a
    closure computed without the timeline (CLEARWAY_TIMELINE off) needs the
    one read of reach_of.
    """
    return getattr(reach, "each", None) or reach_of(systems=slugs)


def _traffic(deadline_windows, *, reaches: dict[str, frozenset[str]], reach: frozenset[str]):
    """Each shown system's traffic, with what reaches it through its dependencies."""
    per_system = data.traffic_segments(deadline_windows, reach)
    # Every row, filtered or not, folds in its dependents' traffic: a deadline
    # on grading-api refuses work on grading-db.
    return {
        slug: data.envelope(s for other in reaches.get(slug, {slug}) for s in per_system[other])
        for slug in reaches
    }


@dataclass(frozen=True)
class _Picture:
    """What the calendar draws of the shown systems in its range."""

    items: list[data.Item]
    traffic: dict[str, list[data.Segment]]
    reaches: dict[str, frozenset[str]]  # per shown system, itself and its dependents
    freeze: BusyWindow | None
    # The gaps between allowed windows on what reaches the shown systems, and
    # the time they cover (only with a filter: unfiltered, some system or
    # other is nearly always outside its window, which says nothing).
    outside_windows: list[BusyWindow]
    outside: data.Outside


def _picture(*, slugs, team: str, team_systems, filtered: bool, lo, hi) -> _Picture:
    # What reaches the shown systems through their dependencies is theirs too:
    # traffic on grading-api refuses work on grading-db, so its calendar shows it.
    reach = conflicts.impacted(slugs)
    collected = data.collect(systems=reach, start=lo, end=hi)
    items = data.with_origins(collected.items, shown=slugs)
    if team:
        items = data.of_team(items, team=team, reach=_team_reach(team_systems, slugs, reach))
    reaches = _reaches(reach, slugs=slugs)
    return _Picture(
        items=items,
        traffic=_traffic(collected.deadlines, reaches=reaches, reach=reach),
        reaches=reaches,
        freeze=collected.freeze,
        outside_windows=collected.outside,
        outside=data.outside_of(collected.outside, reach=reach, start=lo, end=hi)
        if filtered
        else data.Outside(),
    )


@login_required
def calendar(request):
    zone = viewer_zone(request)
    today = datetime.now(zone).date()
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "week"
    anchor = _day_param(request.GET.get("date"), today)
    first, count, previous, following = _range(view, anchor)
    catalogue = list(System.objects.select_related("team").order_by("slug"))
    teams = list(Team.objects.order_by("name"))
    # A filter naming no system or team (a stale bookmark, a NUL byte that
    # PostgreSQL cannot compare) is "All", as its select then shows.
    chosen_system = _known(request.GET.get("system", ""), {s.slug for s in catalogue})
    chosen_team = _known(request.GET.get("team", ""), {t.slug for t in teams})
    shown, team_systems = _shown(catalogue, system=chosen_system, team=chosen_team)
    slugs = frozenset(s.slug for s in shown) or frozenset(s.slug for s in catalogue)
    lo = data.local_midnight(first, zone)
    hi = data.local_midnight(first + timedelta(days=count), zone)
    picture = _picture(
        slugs=slugs,
        team=chosen_team,
        team_systems=team_systems,
        filtered=bool(chosen_system or team_systems),
        lo=lo,
        hi=hi,
    )
    days = data.days(
        first=first,
        count=count,
        zone=zone,
        items=picture.items,
        traffic=picture.traffic,
        month=anchor.month if view == "month" else 0,
        outside=picture.outside,
    )
    context = {
        "view": view,
        "anchor": anchor,
        "today": today,
        "previous": previous,
        "following": following,
        "days": days,
        "items": picture.items,
        "weeks": [days[i : i + 7] for i in range(0, len(days), 7)],
        "range_start": lo,
        "range_end": hi - timedelta(minutes=1),
        "systems": catalogue,
        "teams": teams,
        "chosen_system": chosen_system,
        "chosen_team": chosen_team,
        "freeze": picture.freeze,
        "outside_of": picture.outside.of,
        "timeline": _timeline(shown, picture, lo, hi) if view == "timeline" else None,
        "zone_form": ZoneForm(
            initial={"zone": viewer_zone_name(request), "next": request.get_full_path()}
        ),
        "feed_tokens": list(feed_tokens_of(user=request.user)[:5]),
        "site_url": settings.SITE_URL,
        "flag_at": settings.CLEARWAY_TRAFFIC_FLAG,
        "refuse_at": settings.CLEARWAY_TRAFFIC_REFUSE,
    }
    return render(request, "scheduling/calendar.html", context)


def _timeline(systems, picture: _Picture, lo, hi) -> list[dict]:
    """One row per system: its traffic, the time outside allowed windows, and a
    mark for each item reaching it (the items on it and on its dependents, as
    its traffic and /checks count them)."""
    rows = []
    for system in systems:
        own = frozenset({system.slug})
        reach = picture.reaches.get(system.slug, own)
        bars = []
        for segment in picture.traffic.get(system.slug, []):
            left, width = data.position(segment.start, segment.end, lo, hi)
            bars.append({"segment": segment, "left": left, "width": width})
        outside = data.outside_of(picture.outside_windows, reach=reach, start=lo, end=hi)
        closed = []
        for start, end in outside.stretches:
            left, width = data.position(start, end, lo, hi)
            closed.append({"start": start, "end": end, "left": left, "width": width})
        marks = []
        for item in picture.items:
            if item.reaches(reach):
                left, width = data.position(item.start, item.end, lo, hi)
                via = item.origin(own)
                marks.append({"item": item, "left": left, "width": width, "via": via})
        rows.append(
            {
                "system": system,
                "traffic": bars,
                "outside": closed,
                "outside_of": outside.of,
                "items": marks,
            }
        )
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def choose_zone(request):
    """Keep the viewer's zone in the session; every page then shows times in it."""
    form = ZoneForm(request.POST or None, initial={"zone": viewer_zone_name(request)})
    if request.method == "POST" and form.is_valid():
        request.session[ZONE_SESSION_KEY] = form.cleaned_data["zone"]
        target = form.cleaned_data.get("next") or ""
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("scheduling:calendar")
        return redirect(target)
    return render(
        request, "scheduling/zone.html", {"form": form}, status=400 if form.errors else 200
    )
