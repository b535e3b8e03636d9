"""The public contract for CI: gate, state, checks, slots (see DESIGN.md).

Answers are computed at call time; a job's gate answers 423 when it may not
run so that `curl --fail` stops a pipeline.
"""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, InterfaceError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from scheduling import change_state, conflicts, engine, gate, window_cache
from scheduling.api.auth import READ, READ_POST
from scheduling.api.fields import InstantField, IsoDurationField
from scheduling.api.serializers import FindingSerializer
from scheduling.api.throttles import TokenRateThrottle
from scheduling.choices import Decision, Impact
from scheduling.db import BUSY_HEADERS, lock_wait_at_most
from scheduling.errors import InvalidInput, NotAllowed, NotFound
from scheduling.links import site_link
from scheduling.models import ApiToken
from scheduling.selectors import cache_version, system_list, system_names

MAX_WINDOW = timedelta(days=31)
# The largest id a bigint primary key holds.
MAX_ID = 2**63 - 1


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="not_approved, conflicted, outside_window, freeze, refused_by_<kind>, "
        "unavailable, overrun"
    )
    message = serializers.CharField()
    until = serializers.DateTimeField(allow_null=True)
    teams = serializers.ListField(child=serializers.CharField())
    url = serializers.CharField()


class WindowSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class GateSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    job = serializers.IntegerField()
    status = serializers.CharField(allow_null=True)
    change_type = serializers.CharField(required=False, help_text="standard, normal or emergency.")
    at = serializers.DateTimeField()
    window = WindowSerializer(allow_null=True)
    closes_at = serializers.DateTimeField(allow_null=True)
    next_window = WindowSerializer(allow_null=True)
    reasons = ReasonSerializer(many=True)


def _window(pair) -> dict | None:
    return {"start": pair[0].isoformat(), "end": pair[1].isoformat()} if pair else None


def _param(name: str, field: serializers.Field, raw):
    """Validate one query parameter; its errors are reported under its own name.

    A bare field raises errors without a name, which the exception handler
    would file under `non_field_errors`: the contract wants a message per field.
    """
    try:
        return field.run_validation(raw)
    except serializers.ValidationError as exc:
        raise InvalidInput.for_field(name, " ".join(str(m) for m in exc.detail)) from None


_DECODED_PLUS = re.compile(r"\d \d{2}(:?\d{2})?$")


def _instant(request, name: str) -> datetime | None:
    """The aware instant in query parameter `name`, or None when it is absent."""
    raw = request.query_params.get(name)
    if not raw:
        return None
    if _DECODED_PLUS.search(raw):
        # An unencoded `+` in a query string arrives as a space.
        raise InvalidInput.for_field(
            name,
            f"`{name}` has a space where its UTC offset's `+` was: "
            "encode `+` as `%2B` or use `Z` (e.g. 2030-12-01T09:00Z).",
        )
    value = _param(name, InstantField(), raw)
    if value.tzinfo is None:
        raise InvalidInput.for_field(
            name, f"Give `{name}` with a UTC offset, e.g. 2030-12-01T09:00Z."
        )
    return value


def _at(request) -> datetime:
    return _instant(request, "at") or timezone.now()


# Looked up on every state and slots question; Impact.values builds a new list each time.
_IMPACTS = frozenset(Impact.values)


def _impact(raw: str | None) -> str:
    impact = raw or Impact.EXCLUSIVE_LOCK
    if impact not in _IMPACTS:
        raise InvalidInput.for_field("impact", f"Impact must be one of {', '.join(Impact.values)}.")
    return impact


def _positive_int(raw: str | None, *, field: str) -> int | None:
    if raw in (None, ""):
        return None
    # Digits counted first: int() refuses more than 4,300 of them (a 500), and
    # no id has more than a 64-bit integer's 19.
    if not raw.isdecimal() or len(raw) > 19 or int(raw) < 1:
        raise InvalidInput.for_field(field, f"{field} must be a job id (a whole number).")
    return int(raw)


def _empty_range(
    asked_after: datetime | None, now: datetime, after: datetime, before: datetime
) -> str:
    """Why `before` leaves no range from `after` (rounded, never before now): in the
    past, before `after`, or before its quarter hour."""
    start = f"{after:%Y-%m-%dT%H:%M}Z"
    if asked_after is None or asked_after <= now:
        return f"`before` must be later than now ({start}): there are no slots in the past."
    if before > asked_after:
        return (
            f"`before` must be after {start}: slots start on quarter hours, "
            "the first one at or after `after`."
        )
    return "`before` must be after `after`."


class CIView(APIView):
    throttle_classes = [TokenRateThrottle]
    token_scopes = READ


class PingView(CIView):
    """A constant answer with the same authentication as the gate (the benchmark's floor)."""

    @extend_schema(responses=inline_serializer("Ping", {"ok": serializers.BooleanField()}))
    def get(self, request):
        return Response({"ok": True})


class GateView(CIView):
    def dispatch(self, request, *args, **kwargs):
        # CI polls the gate; a migration holding the jobs table (or the token
        # table, read to authenticate) must make it fail closed at once, not
        # queue every poll behind the lock for the whole DB_LOCK_TIMEOUT_MS.
        with lock_wait_at_most(milliseconds=gate.LOCK_WAIT_MS):
            return super().dispatch(request, *args, **kwargs)

    @extend_schema(
        summary="May this booked job run now?",
        parameters=[
            OpenApiParameter("at", OpenApiTypes.DATETIME, description="What-if instant."),
        ],
        responses={200: GateSerializer, 423: GateSerializer, 503: GateSerializer},
        examples=[
            OpenApiExample(
                "Refused",
                status_codes=["423"],
                value={
                    "allowed": False,
                    "job": 42,
                    "status": "approved",
                    "at": "2030-12-11T09:00:00Z",
                    "window": {"start": "2030-12-11T08:00:00Z", "end": "2030-12-11T14:00:00Z"},
                    "closes_at": None,
                    "next_window": None,
                    "reasons": [
                        {
                            "code": "refused_by_deadline",
                            "message": "Up to 2,000 students are expected on grading-api ...",
                            "until": "2030-12-13T05:59:00Z",
                            "teams": ["curriculum"],
                            "url": "https://clearway.example.org/deadlines/7/",
                        }
                    ],
                },
            )
        ],
    )
    def get(self, request, pk: str):
        if len(pk) > 19 or int(pk) > MAX_ID:
            # Past any id the database holds (and past what its reads accept).
            raise NotFound(f"There is no job #{pk}.")
        at = _at(request)
        try:
            version = cache_version()
            job, read = gate.job_at(job_id=int(pk), at=at, version=version)
            if job is None:
                raise NotFound(f"There is no job #{pk}.")
            if isinstance(request.auth, ApiToken) and request.auth.team_id != job.team_id:
                raise NotAllowed(
                    f"This token belongs to {request.auth.team.slug}, not to job #{pk}'s team."
                )
            answer = gate.gate(job=job, at=at, version=version, read=read)
        except (DatabaseError, InterfaceError):
            # Fail closed: when Clearway cannot decide, the answer is no, with a
            # reason, and the status says "try again" rather than "refused".
            return Response(
                {
                    "allowed": False,
                    "job": int(pk),
                    "status": None,
                    "at": at.isoformat(),
                    "window": None,
                    "closes_at": None,
                    "next_window": None,
                    "reasons": [
                        gate.Reason(
                            "unavailable", "Clearway could not decide in time; try again."
                        ).as_dict()
                    ],
                },
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers=BUSY_HEADERS,
            )
        body = {
            "allowed": answer.allowed,
            "job": job.pk,
            "status": job.status,
            "change_type": job.change_type,
            "at": at.isoformat(),
            "window": _window(answer.window),
            "closes_at": answer.closes_at.isoformat() if answer.closes_at else None,
            "next_window": _window(answer.next_window),
            "reasons": [reason.as_dict() for reason in answer.reasons],
        }
        return Response(body, status=status.HTTP_200_OK if answer.allowed else 423)


class StateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["open", "flagged", "closed"])
    at = serializers.DateTimeField()
    next_transition = serializers.DateTimeField(allow_null=True)
    reasons = ReasonSerializer(many=True)


class StateView(CIView):
    @extend_schema(
        summary="Is change open on these systems (no booking needed)?",
        parameters=[
            OpenApiParameter("systems", str, required=True, description="Comma-separated slugs."),
            OpenApiParameter("at", OpenApiTypes.DATETIME),
            OpenApiParameter(
                "impact", str, enum=Impact.values, description="Default exclusive_lock."
            ),
        ],
        responses={200: StateSerializer},
    )
    def get(self, request):
        version = cache_version()
        systems = system_names(raw=request.query_params.get("systems"))
        try:
            at = _at(request)
            impact = _impact(request.query_params.get("impact"))
        except InvalidInput:
            # An unknown system is the first error, as it was before the names
            # were checked with the answer's own reads.
            system_list(raw=systems, version=version)
            raise
        answer = change_state.state(
            version=version, systems=systems, at=at, impact=impact, check_names=True
        )
        return Response(
            {
                "state": answer.state,
                "at": at.isoformat(),
                "next_transition": answer.next_transition.isoformat()
                if answer.next_transition
                else None,
                "reasons": [reason.as_dict() for reason in answer.reasons],
            }
        )


class CheckRequestSerializer(serializers.Serializer):
    systems = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    start = InstantField()
    end = InstantField()
    impact = serializers.ChoiceField(choices=Impact.choices, default=Impact.EXCLUSIVE_LOCK)
    exclude_job = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Leave this job's own booking out (when moving it).",
    )

    def validate(self, attrs):
        for name in ("start", "end"):
            if attrs[name].tzinfo is None:
                raise serializers.ValidationError({name: "Give an offset, e.g. ...T08:00:00Z."})
        if attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"end": "The end must be after the start."})
        if attrs["end"] - attrs["start"] > MAX_WINDOW:
            raise serializers.ValidationError({"end": "Check at most 31 days at once."})
        return attrs


class CheckSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    findings = FindingSerializer(many=True)
    impacted_systems = serializers.ListField(child=serializers.CharField())
    next_clear = WindowSerializer(allow_null=True)


class ChecksView(CIView):
    token_scopes = READ_POST

    @extend_schema(
        summary="Preview a window: decision, findings and the next clear window",
        request=CheckRequestSerializer,
        responses={200: CheckSerializer},
    )
    def post(self, request):
        body = CheckRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        version = cache_version()
        exclude = data.get("exclude_job")
        systems, known = conflicts.checked_systems(
            raw=data["systems"],
            start=data["start"],
            end=data["end"],
            exclude_job=exclude,
            version=version,
        )
        key = ("check", version, frozenset(systems), data["start"], data["end"], data["impact"])
        answer = window_cache.answers.get_or_compute(
            (*key, exclude), lambda: _check(data, systems, exclude, version, known)
        )
        return Response(answer)


def _check(
    data: dict, systems: list[str], exclude: int | None, version: tuple, known: tuple | None
) -> dict:
    evaluation = conflicts.evaluate(
        systems=systems,
        start=data["start"],
        end=data["end"],
        impact=data["impact"],
        exclude_job=exclude,
        version=version,
        known=known,
    )
    if not evaluation.findings:
        # Nothing in the window: it is its own next clear window, no walk needed.
        return _check_answer(evaluation, (data["start"], data["end"]))
    slot = next(
        iter(
            conflicts.next_clear(
                systems=systems,
                impacted_set=evaluation.impacted,
                duration=data["end"] - data["start"],
                impact=data["impact"],
                after=data["start"],
                before=data["start"] + timedelta(days=90),
                limit=1,
                exclude_job=exclude,
                # Unaligned: a clear window asked about is its own answer.
                align=None,
                version=version,
            )
        ),
        None,
    )
    return _check_answer(evaluation, (slot.start, slot.end) if slot else None)


def _check_answer(evaluation, clear: tuple | None) -> dict:
    return {
        "decision": evaluation.decision,
        "findings": [
            {**finding.as_dict(), "url": site_link(finding.url)} for finding in evaluation.findings
        ],
        "impacted_systems": sorted(evaluation.impacted),
        "next_clear": _window(clear) if clear else None,
    }


class SlotsSerializer(serializers.Serializer):
    slots = WindowSerializer(many=True)
    reason = serializers.CharField(allow_null=True)


class SlotsView(CIView):
    @extend_schema(
        summary="The next clear windows, earliest first (or the latest before `before`)",
        parameters=[
            OpenApiParameter("systems", str, required=True, description="Comma-separated slugs."),
            OpenApiParameter("duration", str, required=True, description="ISO 8601, e.g. PT4H."),
            OpenApiParameter("impact", str, enum=Impact.values),
            OpenApiParameter("after", OpenApiTypes.DATETIME),
            OpenApiParameter(
                "before",
                OpenApiTypes.DATETIME,
                description=(
                    "Without `after`: the nearest clear windows ending by this instant, "
                    "latest first (from now on). With `after`: the end of the search."
                ),
            ),
            OpenApiParameter("limit", int, description="1 to 50, default 5."),
            OpenApiParameter(
                "exclude_job", int, description="Leave this job's own booking out (moving it)."
            ),
        ],
        responses={200: SlotsSerializer},
    )
    def get(self, request):
        params = request.query_params
        version = cache_version()
        systems = system_list(raw=params.get("systems"), version=version)
        duration = _param("duration", IsoDurationField(), params.get("duration", ""))
        if duration > MAX_WINDOW:
            raise InvalidInput.for_field("duration", "Ask for at most 31 days.")
        # Rounded as the slots are (engine.round_up), so the range and `before` agree.
        asked_after = _instant(request, "after")
        now = timezone.now()
        # Never from before now: a window in the past cannot be booked.
        after = engine.round_up(max(asked_after or now, now))
        before = _instant(request, "before")
        # `before` alone asks for the nearest clear windows before it, latest
        # first: people plan backwards from a deadline. With `after` it only
        # bounds a forward search, as it always has.
        backwards = before is not None and asked_after is None
        if before is not None and before <= after:
            raise InvalidInput.for_field("before", _empty_range(asked_after, now, after, before))
        try:
            limit = int(params.get("limit", 5))
        except ValueError:
            raise InvalidInput.for_field("limit", "limit must be a whole number.") from None
        if not 1 <= limit <= 50:
            raise InvalidInput.for_field("limit", "limit must be between 1 and 50.")
        impact = _impact(params.get("impact"))
        # One range for the search and for the sentence explaining an empty one.
        before = before or after + timedelta(days=settings.CLEARWAY_HORIZON_DAYS)
        exclude = _positive_int(params.get("exclude_job"), field="exclude_job")

        def answer() -> dict:
            found = gate.slots(
                systems=systems,
                duration=duration,
                impact=impact,
                after=after,
                before=before,
                limit=limit,
                exclude_job=exclude,
                backwards=backwards,
            )
            reason = None
            if not found:
                reason = gate.no_slot_reason(
                    systems=systems, duration=duration, after=after, before=before, impact=impact
                )
            return {"slots": [_window((s.start, s.end)) for s in found], "reason": reason}

        key = (frozenset(systems), duration, impact, after, before, limit, exclude, backwards)
        return Response(window_cache.answers.get_or_compute(("slots", version, *key), answer))
