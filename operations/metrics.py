"""/metrics in the Prometheus text format, computed from the database at scrape time.

Every series is read when Prometheus scrapes, so several app processes answer
the same (nothing is counted in process memory except through the shared
cache: the gate answers). Readable with `Authorization: Bearer
$CLEARWAY_METRICS_TOKEN` or by a signed-in administrator.
"""

import hmac
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from deadlines.models import DeadlineFeed
from operations import traffic
from operations.middleware import gate_answer_counts
from operations.models import (
    DatabaseMonitor,
    Observation,
    ObservationKind,
    Run,
    RunStatus,
    TimelineCheck,
)
from scheduling import conflicts
from scheduling.choices import Decision, DeliveryStatus, Impact, JobStatus
from scheduling.models import Delivery, MaintenanceJob, System

STATE = {Decision.CLEAR: "open", Decision.FLAG: "flagged", Decision.REFUSE: "closed"}
REEVALUATION_TASK = "scheduling.tasks.reevaluate_jobs"


class ClearwayCollector:
    """Yields every clearway_* series; registered on a fresh registry per scrape."""

    def collect(self):
        now = timezone.now()
        yield from self._systems(now)
        yield from self._jobs_and_runs(now)
        yield from self._databases(now)
        yield from self._feeds(now)
        yield from self._deliveries()
        yield from self._gate()
        yield from self._reevaluation(now)
        yield from self._timeline(now)

    def _systems(self, now):
        state = GaugeMetricFamily(
            "clearway_system_state",
            "1 for the system's current state for exclusive-lock change (open, flagged, closed)",
            labels=["system", "state"],
        )
        students = GaugeMetricFamily(
            "clearway_students_expected",
            "Students the traffic forecast expects on the system now (dependencies applied)",
            labels=["system"],
        )
        for slug in System.objects.order_by("slug").values_list("slug", flat=True):
            decision = conflicts.evaluate(
                systems=[slug],
                start=now,
                end=now + timedelta(minutes=1),
                impact=Impact.EXCLUSIVE_LOCK,
            ).decision
            for name in STATE.values():
                state.add_metric([slug, name], 1.0 if STATE[decision] == name else 0.0)
            students.add_metric([slug], traffic.students_at(systems=frozenset({slug}), at=now))
        yield state
        yield students

    def _jobs_and_runs(self, now):
        jobs = GaugeMetricFamily("clearway_jobs", "Maintenance jobs by status", labels=["status"])
        counts = dict(
            MaintenanceJob.objects.values_list("status").annotate(n=Count("pk")).order_by()
        )
        for status in JobStatus.values:
            jobs.add_metric([status], counts.get(status, 0))
        yield jobs
        running = Run.objects.filter(status=RunStatus.RUNNING)
        yield GaugeMetricFamily(
            "clearway_runs_in_progress",
            "Runs reported started and not finished",
            value=running.count(),
        )
        yield GaugeMetricFamily(
            "clearway_runs_overrunning",
            "Running runs past their window's end",
            value=running.exclude(overrun_at=None).count(),
        )
        yield GaugeMetricFamily(
            "clearway_runs_stop_requested",
            "Running runs asked to stop",
            value=running.exclude(stop_requested_at=None).count(),
        )
        yield CounterMetricFamily(
            "clearway_runs_lost",
            "Runs marked lost (no heartbeat)",
            value=Run.objects.filter(status=RunStatus.LOST).count(),
        )
        yield CounterMetricFamily(
            "clearway_overruns",
            "Runs that overran their window, ever",
            value=Run.objects.exclude(overrun_at=None).count(),
        )

    def _databases(self, now):
        recent = now - timedelta(seconds=3 * settings.CLEARWAY_WATCH_INTERVAL)
        unbooked = Observation.objects.filter(unbooked=True, kind=ObservationKind.LOCK)
        yield GaugeMetricFamily(
            "clearway_unbooked_locks_active",
            "Unbooked writer-blocking locks seen in the last three samples",
            value=unbooked.filter(last_seen_at__gte=recent).count(),
        )
        yield CounterMetricFamily(
            "clearway_unbooked_locks",
            "Unbooked writer-blocking locks seen, ever",
            value=unbooked.count(),
        )
        connections = GaugeMetricFamily(
            "clearway_database_connections",
            "Connections to the monitored database at the last sample",
            labels=["system", "database"],
        )
        limit = GaugeMetricFamily(
            "clearway_database_max_connections",
            "The monitored server's max_connections",
            labels=["system", "database"],
        )
        waiting = GaugeMetricFamily(
            "clearway_database_lock_waiters",
            "Sessions waiting on a lock at the last sample",
            labels=["system", "database"],
        )
        up = GaugeMetricFamily(
            "clearway_database_up",
            "1 when the last sample of the monitored database succeeded",
            labels=["system", "database"],
        )
        for monitor in DatabaseMonitor.objects.filter(enabled=True).select_related("system"):
            labels = [monitor.system.slug, monitor.database]
            up.add_metric(labels, 0.0 if monitor.failing_since else 1.0)
            if monitor.connections is not None:
                connections.add_metric(labels, monitor.connections)
                limit.add_metric(labels, monitor.max_connections or 0)
                waiting.add_metric(labels, monitor.lock_waiters or 0)
        yield from (connections, limit, waiting, up)

    def _feeds(self, now):
        age = GaugeMetricFamily(
            "clearway_feed_last_success_age_seconds",
            "Seconds since the deadline feed last synced (absent: never)",
            labels=["feed", "team"],
        )
        streak = GaugeMetricFamily(
            "clearway_feed_failure_streak",
            "Consecutive failed syncs of the deadline feed",
            labels=["feed", "team"],
        )
        for feed in DeadlineFeed.objects.filter(enabled=True).select_related("team"):
            labels = [str(feed.pk), feed.team.slug]
            if feed.last_success_at:
                age.add_metric(labels, (now - feed.last_success_at).total_seconds())
            streak.add_metric(labels, feed.failure_count)
        yield age
        yield streak

    def _deliveries(self):
        deliveries = GaugeMetricFamily(
            "clearway_deliveries", "Notification deliveries by status", labels=["status"]
        )
        counts = dict(Delivery.objects.values_list("status").annotate(n=Count("pk")).order_by())
        for status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
            deliveries.add_metric([status], counts.get(status, 0))
        yield deliveries

    def _gate(self):
        answers = CounterMetricFamily(
            "clearway_gate_answers",
            "Gate answers by HTTP status (shared between processes through CACHE_URL)",
            labels=["code"],
        )
        for code, count in sorted(gate_answer_counts().items()):
            answers.add_metric([code], count)
        yield answers

    def _reevaluation(self, now):
        """How long the oldest queued re-evaluation has waited (0: none waits)."""
        from django_q.models import OrmQ

        oldest = None
        queued = 0
        for row in OrmQ.objects.order_by("id")[:1000]:
            try:
                task = row.task()
            except Exception:  # noqa: S112 - another signing key or a torn row: not ours
                continue
            if task.get("func") == REEVALUATION_TASK:
                queued += 1
                started = task.get("started")
                if started and (oldest is None or started < oldest):
                    oldest = started
        yield GaugeMetricFamily(
            "clearway_reevaluation_lag_seconds",
            "Age of the oldest queued re-evaluation task (ORM broker)",
            value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        )
        yield GaugeMetricFamily(
            "clearway_reevaluations_queued", "Re-evaluation tasks waiting", value=queued
        )

    def _timeline(self, now):
        """The last hourly comparison of the stored timeline with a rebuild."""
        last = TimelineCheck.objects.order_by("-checked_at", "-pk").first()
        yield GaugeMetricFamily(
            "clearway_timeline_differences",
            "Differences between the stored timeline and a rebuild at the last check "
            "(0: they match; NaN: never checked)",
            value=last.differences if last else float("nan"),
        )
        yield GaugeMetricFamily(
            "clearway_timeline_check_age_seconds",
            "Seconds since the stored timeline was last checked against a rebuild",
            value=(now - last.checked_at).total_seconds() if last else float("nan"),
        )


def _authorised(request) -> bool:
    expected = settings.CLEARWAY_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    keyword, _, secret = header.partition(" ")
    if expected and keyword.lower() == "bearer" and secret.strip():
        return hmac.compare_digest(secret.strip().encode(), expected.encode())
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated and user.is_staff)


@never_cache
def metrics(request):
    if not _authorised(request):
        return JsonResponse(
            {
                "code": "not_authenticated",
                "message": "Send Authorization: Bearer $CLEARWAY_METRICS_TOKEN, "
                "or sign in as an administrator.",
            },
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="clearway-metrics"'},
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ClearwayCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
