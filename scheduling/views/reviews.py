"""The review inbox: pending requests for the viewer's teams."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from scheduling.choices import JobStatus, ReviewStatus
from scheduling.forms import ReviewForm
from scheduling.models import ReviewRequest
from scheduling.views.common import require, roles_of
from scheduling.views.findings import finding_rows


@login_required
def inbox(request):
    roles = roles_of(request.user)
    require(roles.reviews, "The review inbox is for members of a team.")
    requests = (
        ReviewRequest.objects.filter(
            team__in=roles.teams, status=ReviewStatus.PENDING, job__status=JobStatus.PENDING
        )
        # Members of the requesting team never review it (the service refuses).
        .exclude(job__team__members=request.user)
        .select_related("team", "job", "job__team")
        .prefetch_related("job__systems")
        .order_by("created_at")
    )
    rows = [
        {
            "review": review,
            "findings": finding_rows(review.job.findings),
            "form": ReviewForm(initial={"team": review.team.slug}),
        }
        for review in requests
        if review.round == review.job.review_round
    ]
    return render(request, "scheduling/reviews.html", {"rows": rows, "teams": roles.teams})
