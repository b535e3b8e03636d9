"""The review inbox: pending requests for the viewer's teams."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from scheduling.forms import ReviewForm
from scheduling.selectors import reviews_waiting_for
from scheduling.views.common import require, roles_of
from scheduling.views.findings import finding_rows


@login_required
def inbox(request):
    roles = roles_of(request.user)
    require(roles.reviews, "The review inbox is for members of a team.")
    requests = (
        reviews_waiting_for(user=request.user)
        .select_related("team", "job", "job__team")
        .prefetch_related("job__systems")
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
