"""Runs on the job page: `{% load operations %}{% job_runs job %}` (scheduling never imports us)."""

from django import template

from operations.selectors import runs_between, runs_of_job
from operations.services.runs import may_ask_to_stop

register = template.Library()


@register.inclusion_tag("operations/job_runs.html", takes_context=True)
def job_runs(context, job):
    user = context["request"].user
    return {
        "job": job,
        "runs": runs_of_job(job_id=job.pk, limit=20),
        "can_stop": may_ask_to_stop(job=job, user=user),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("operations/calendar_runs.html")
def calendar_runs(start, end, system="", team=""):
    """The runs going in the calendar's range, on the shown system or team."""
    return {"runs": runs_between(start=start, end=end, system=system, team=team)}
