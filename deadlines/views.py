"""Deadline pages: curriculum staff publish, upload and point Clearway at LMS feeds.

Anyone signed in may read one deadline (findings link to it); publishing is
for members of the owning team and administrators, as in the API.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from deadlines.entries import split_systems
from deadlines.feeds.services import (
    deadline_feed_create,
    deadline_feed_delete,
    deadline_feed_update,
)
from deadlines.forms import DeadlineForm, FeedForm, UploadForm
from deadlines.models import Deadline, DeadlineFeed
from deadlines.preview import deadline_preview, upload_preview
from deadlines.selectors import deadlines_with_details, publishing_teams
from deadlines.services import deadline_create, deadline_update, deadline_withdraw, traffic_window
from deadlines.uploads import MAX_UPLOAD_BYTES, deadlines_upload
from scheduling.errors import DomainError
from scheduling.forms import local_value
from scheduling.models import Team
from scheduling.queue import enqueue
from scheduling.selectors import is_member
from scheduling.views.common import add_domain_error, require, roles_of, viewer_zone_name

STAFF_ONLY = "Deadlines are published by curriculum staff and administrators."


def _require_publisher(user) -> None:
    require(user.is_staff or roles_of(user).curriculum, STAFF_ONLY)


def _require_team(user, team: Team) -> None:
    require(user.is_staff or is_member(user, team), f"Only members of {team.name} can change it.")


@login_required
def deadline_list(request):
    """Everyone signed in reads the deadlines (as the API allows); publishing is limited."""
    user = request.user
    show_past = request.GET.get("past") == "1"
    deadlines = deadlines_with_details().order_by("due")
    if not show_past:
        deadlines = deadlines.filter(due__gte=timezone.now(), withdrawn_at__isnull=True)
    own = None if user.is_staff else set(user.teams.values_list("pk", flat=True))
    rows = [
        {
            "deadline": d,
            "can_change": (own is None or d.team_id in own)
            and d.feed_id is None
            and d.withdrawn_at is None,
        }
        for d in deadlines[:300]
    ]
    context = {
        "rows": rows,
        "show_past": show_past,
        "publishes": user.is_staff or roles_of(user).curriculum,
    }
    return render(request, "deadlines/list.html", context)


@login_required
def deadline_detail(request, pk: int):
    deadline = get_object_or_404(
        deadlines_with_details(),
        pk=pk,
    )
    start, end = traffic_window(deadline.due)
    context = {
        "deadline": deadline,
        "traffic_start": start,
        "traffic_end": end,
        "can_change": (request.user.is_staff or is_member(request.user, deadline.team))
        and deadline.feed_id is None
        and deadline.withdrawn_at is None,
        "refuse_at": settings.CLEARWAY_TRAFFIC_REFUSE,
        "flag_at": settings.CLEARWAY_TRAFFIC_FLAG,
    }
    return render(request, "deadlines/detail.html", context)


def _deadline_initial(deadline: Deadline, zone: str) -> dict:
    return {
        "title": deadline.title,
        "course": deadline.course,
        "team": deadline.team.slug,
        "cohort": deadline.cohort_id,
        "cohort_size": deadline.cohort_size,
        "due": local_value(deadline.due, zone),
        "timezone": zone,
        "systems": [s.slug for s in deadline.systems.all()],
    }


@login_required
@require_http_methods(["GET", "POST"])
def deadline_form(request, pk: int | None = None):
    _require_publisher(request.user)
    deadline = get_object_or_404(Deadline, pk=pk) if pk else None
    zone = viewer_zone_name(request)
    if deadline is not None:
        _require_team(request.user, deadline.team)
        # The next sync would undo an edit: the LMS is the source of a feed's deadlines.
        require(deadline.feed_id is None, "This deadline comes from a feed; change it in the LMS.")
    initial = (
        _deadline_initial(deadline, zone)
        if deadline
        else {
            "timezone": zone,
            "systems": settings.CLEARWAY_DEFAULT_DEADLINE_SYSTEMS,
        }
    )
    form = DeadlineForm(
        request.POST or None, teams=publishing_teams(user=request.user), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        arguments = {
            "team": data["team"],
            "title": data["title"],
            "course": data["course"],
            "cohort": data["cohort"],
            "cohort_size": data["cohort_size"],
            "due": data["due"],
            "systems": [s.slug for s in data["systems"]] or None,
        }
        if deadline is not None and arguments["cohort_size"] is None:
            del arguments["cohort_size"]  # a newly chosen cohort then brings its own size
        previewing = deadline is None and request.POST.get("action") == "preview"
        try:
            if previewing:
                impacts = deadline_preview(by=request.user, **arguments)
            elif deadline is None:
                deadline = deadline_create(by=request.user, **arguments)
            else:
                deadline = deadline_update(deadline=deadline, by=request.user, **arguments)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            if previewing:
                context = {"form": form, "deadline": None, "impacts": impacts, "previewed": True}
                return render(request, "deadlines/form.html", context)
            messages.success(
                request,
                f"Deadline '{deadline.title}' is published; jobs in its window are re-checked.",
            )
            return redirect("deadlines:deadline-detail", pk=deadline.pk)
    context = {"form": form, "deadline": deadline}
    return render(request, "deadlines/form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def deadline_withdraw_view(request, pk: int):
    deadline = get_object_or_404(Deadline, pk=pk)
    _require_team(request.user, deadline.team)
    require(deadline.feed_id is None, "This deadline comes from a feed; remove it in the LMS.")
    deadline_withdraw(deadline=deadline, by=request.user)
    messages.success(request, f"Deadline '{deadline.title}' is withdrawn.")
    return redirect("deadlines:deadline-list")


@login_required
@require_http_methods(["GET", "POST"])
def deadline_upload(request):
    _require_publisher(request.user)
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        teams=publishing_teams(user=request.user),
        initial={"timezone": viewer_zone_name(request)},
    )
    problems = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            arguments = {
                "team": data["team"],
                "filename": data["file"].name or "",
                "data": data["file"].read(MAX_UPLOAD_BYTES + 1),
                "source_name": data["source"],
                "cohort": data["cohort"].strip(),
                "cohort_size": data["cohort_size"],
                "systems": split_systems(" ".join(s.slug for s in data["systems"])),
                "timezone_name": data["timezone"],
                "by": request.user,
            }
            if request.POST.get("action") == "preview":
                impacts = upload_preview(**arguments)
                context = {"form": form, "problems": [], "impacts": impacts, "previewed": True}
                return render(request, "deadlines/upload.html", context)
            summary = deadlines_upload(**arguments)
        except DomainError as exc:
            problems = exc.details.get("problems", [])
            if problems:
                form.add_error("file", exc.message)
            else:
                add_domain_error(form, exc)
        else:
            counts = summary.counts()
            messages.success(
                request,
                "Upload applied: {created} created, {updated} updated, {unchanged} unchanged, "
                "{withdrawn} withdrawn.".format(**counts),
            )
            return redirect("deadlines:deadline-list")
    context = {"form": form, "problems": problems}
    return render(request, "deadlines/upload.html", context, status=400 if form.errors else 200)


# --- remote feeds -----------------------------------------------------------


def _feeds_of(user):
    return (
        DeadlineFeed.objects.filter(team__in=publishing_teams(user=user))
        .select_related("team")
        .prefetch_related("systems")
    )


@never_cache  # feed URLs carry the LMS's secret token
@login_required
def feed_list(request):
    _require_publisher(request.user)
    return render(request, "deadlines/feeds.html", {"feeds": _feeds_of(request.user)})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def feed_form(request, pk: int | None = None):
    _require_publisher(request.user)
    feed = get_object_or_404(_feeds_of(request.user), pk=pk) if pk else None
    initial = {"interval": 60, "enabled": True}
    if feed is not None:
        initial = {
            "url": feed.url,
            "format": feed.format,
            "team": feed.team.slug,
            "cohort": feed.cohort,
            "cohort_size": feed.cohort_size,
            "systems": [s.slug for s in feed.systems.all()],
            "interval": int(feed.interval.total_seconds() // 60),
            "enabled": feed.enabled,
        }
    form = FeedForm(
        request.POST or None, teams=publishing_teams(user=request.user), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        arguments = form.service_arguments()
        try:
            if feed is None:
                # Due at once: the feed scheduler syncs it within a minute.
                feed = deadline_feed_create(
                    feed_format=form.cleaned_data["format"], by=request.user, **arguments
                )
            else:
                feed = deadline_feed_update(
                    feed=feed, format=form.cleaned_data["format"], by=request.user, **arguments
                )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, "The feed is saved; it syncs in the background.")
            return redirect("deadlines:deadline-feed-list")
    context = {"form": form, "feed": feed}
    return render(request, "deadlines/feed_form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def feed_sync(request, pk: int):
    _require_publisher(request.user)
    feed = get_object_or_404(_feeds_of(request.user), pk=pk)
    enqueue("deadlines.tasks.sync_feed", feed.pk)
    messages.success(request, f"Feed #{feed.pk} is syncing; refresh to see its state.")
    return redirect("deadlines:deadline-feed-list")


@login_required
@require_POST
def feed_delete(request, pk: int):
    _require_publisher(request.user)
    feed = get_object_or_404(_feeds_of(request.user), pk=pk)
    deadline_feed_delete(feed=feed, by=request.user)
    messages.success(request, "The feed is removed; its deadlines are withdrawn.")
    return redirect("deadlines:deadline-feed-list")
