"""The maintenance feed source (listed in settings.CLEARWAY_FEED_SOURCES).

Pending and conflicted jobs are TENTATIVE (they may still move or be refused),
approved and done ones CONFIRMED, cancelled ones CANCELLED for 30 days after
the cancellation. Drafts and rejected jobs are nobody else's business.
"""

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, OuterRef, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from scheduling.calendar_feeds.sources import (
    CANCELLED,
    CONFIRMED,
    TENTATIVE,
    FeedEvent,
    FeedQuery,
    QuerysetFeedSource,
    SourceState,
    TextJoin,
    as_text,
    names_of,
    related_names,
    site_url,
)
from scheduling.choices import JobStatus, ReviewStatus
from scheduling.models import MaintenanceJob, ReviewRequest
from scheduling.services.messages import findings_text

SHOWN = (JobStatus.PENDING, JobStatus.CONFLICTED, JobStatus.APPROVED, JobStatus.DONE)
PUBLIC = (JobStatus.APPROVED, JobStatus.DONE)
STATUS = {
    JobStatus.APPROVED: CONFIRMED,
    JobStatus.DONE: CONFIRMED,
    JobStatus.CANCELLED: CANCELLED,
}


class MaintenanceFeedSource(QuerysetFeedSource):
    feed = "maintenance"
    kind = "job"
    public = True
    # A review decision or a re-evaluation changes the DESCRIPTION without
    # bumping `version`: evaluations are stamped here, reviews in `state`.
    stamp_fields = ("version", "updated_at", "evaluated_at")
    modified_fields = ("updated_at", "evaluated_at")
    # Saved without a new version by some steps (a review round, an evaluation).
    text_fields = (
        "version",
        "updated_at",
        "evaluated_at",
        "status",
        "decision",
        "review_round",
        "emergency",
        "template_id",
    )

    def rows(self, *, query: FeedQuery) -> QuerySet:
        if query.public:
            jobs = MaintenanceJob.objects.filter(status__in=PUBLIC)
        else:
            # `updated_at` is the cancellation: a cancelled job is never saved again.
            jobs = MaintenanceJob.objects.filter(
                Q(status__in=SHOWN)
                | Q(status=JobStatus.CANCELLED, updated_at__gte=query.cancelled_since)
            )
        return self.filtered(jobs, query=query)

    def on(self, systems: frozenset[str]) -> Q:
        # A job is on the systems it impacts: those booked and their dependents.
        touching = MaintenanceJob.impacted_systems.through.objects.filter(system__slug__in=systems)
        return Q(pk__in=touching.values("maintenancejob_id"))

    def state(self, *, query: FeedQuery) -> SourceState:
        """The base state, plus the reviews' counts and newest decision, read in
        one aggregate over the reviews of these jobs (a subquery per job took a
        second at 40,000 jobs)."""
        jobs = self.rows(query=query)
        state = super().state(query=query)
        reviews = ReviewRequest.objects.filter(job__in=jobs.values("pk")).aggregate(
            reviewed=Max(Coalesce("decided_at", "created_at")),
            requested=Count("pk"),
            decided=Count("decided_at"),
        )
        times = [state.modified, reviews["reviewed"]]
        return SourceState(
            count=state.count,
            modified=max((t for t in times if t is not None), default=None),
            fingerprint=(*state.fingerprint, *reviews.values()),
        )

    def names(self) -> object:
        """The reviewers' usernames the texts show ("approved by bob"): a reviewer
        renamed changes no job or review row, but must change the ETag."""
        deciders = ReviewRequest.objects.filter(decided_by__isnull=False).values("decided_by")
        return list(
            get_user_model()
            .objects.filter(pk__in=deciders)
            .order_by("pk")
            .values_list("pk", "username")
        )

    def context(self) -> dict:
        # Reviews name their team and decider, whose renames touch no job row.
        reviews = ReviewRequest.objects.filter(job=OuterRef("pk"))
        review = TextJoin(
            as_text("status"),
            Value(":"),
            as_text("team__name"),
            Value(":"),
            as_text("decided_by__username"),
            Value(":"),
            as_text(Coalesce("decided_at", "created_at")),
        )
        return {
            "team_name": F("team__name"),
            # Booked systems and their dependents (a dependency change moves these).
            "system_names": related_names(
                MaintenanceJob.impacted_systems.through, owner="maintenancejob"
            ),
            "review_names": names_of(reviews, per="job", name=review),
        }

    def load(self, *, ids: list[int]) -> Iterable[MaintenanceJob]:
        reviews = ReviewRequest.objects.select_related("team", "decided_by").order_by(
            "round", "team__slug"
        )
        return (
            MaintenanceJob.objects.filter(pk__in=ids)
            .select_related("team")
            .prefetch_related("systems", "impacted_systems", Prefetch("reviews", queryset=reviews))
        )

    def events_of(self, row: MaintenanceJob, *, query: FeedQuery) -> list[FeedEvent]:
        job = row
        systems = sorted(system.slug for system in job.systems.all())
        reviews = list(job.reviews.all())
        stamps = [job.updated_at, job.evaluated_at]
        stamps += [review.decided_at or review.created_at for review in reviews]
        describe = _public_description if query.public else _description
        return [
            FeedEvent(
                uid=f"job-{job.pk}@clearway",
                sequence=job.version,
                modified=max(stamp for stamp in stamps if stamp is not None),
                start=job.start,
                end=job.end,
                zone=job.timezone,
                rrule=job.rrule,
                summary=f"Maintenance: {job.title} ({', '.join(systems)})",
                description=describe(job, systems, reviews),
                url=site_url(f"/jobs/{job.pk}/"),
                category="maintenance",
                status=STATUS.get(job.status, TENTATIVE),
            )
        ]


def _also_impacts(job: MaintenanceJob, systems: list[str]) -> str:
    others = sorted({s.slug for s in job.impacted_systems.all()} - set(systems))
    return f" (also impacts {', '.join(others)})" if others else ""


def _public_description(job: MaintenanceJob, systems: list[str], reviews) -> str:
    """What a status page may say: no findings, reviews or internal notes."""
    return (
        f"Planned maintenance by {job.team.name} on {', '.join(systems)}"
        f"{_also_impacts(job, systems)}. Impact: {job.get_impact_display().lower()}."
    )


def _description(job: MaintenanceJob, systems: list[str], reviews) -> str:
    lines = [
        f"Status: {job.get_status_display()}. Decision: {job.decision or 'not evaluated'}. "
        f"Impact: {job.get_impact_display().lower()}. Change type: {job.change_type}.",
        f"Team: {job.team.name}.",
        f"Systems: {', '.join(systems)}{_also_impacts(job, systems)}.",
    ]
    if job.findings:
        lines += ["Findings:", findings_text(job.findings)]
    current = [
        review
        for review in reviews
        if review.round == job.review_round and review.status != ReviewStatus.SUPERSEDED
    ]
    if current:
        lines.append(f"Reviews (round {job.review_round}):")
        lines += [f"- {_review_line(review)}" for review in current]
    if job.description:
        lines += ["", job.description]
    return "\n".join(lines)


def _review_line(review: ReviewRequest) -> str:
    line = f"{review.team.name}: {review.get_status_display().lower()}"
    if review.decided_by is not None:
        line += f" by {review.decided_by.get_username()}"
    if review.comment:
        line += f" ({review.comment})"
    return line
