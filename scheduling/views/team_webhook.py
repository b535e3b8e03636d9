"""A team's webhook page: where it posts, in which format, and its signing secret (shown once)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from scheduling.models import Team
from scheduling.selectors import manages_team_webhook
from scheduling.services.webhooks import team_webhook_secret_rotate


@never_cache  # shows the webhook URL (a credential) and a new secret once
@login_required
@require_http_methods(["GET", "POST"])
def team_webhook(request, slug: str):
    team = get_object_or_404(Team, slug=slug)
    if not manages_team_webhook(user=request.user, team=team):
        raise Http404  # another team's webhook is none of this viewer's business
    secret = None
    if request.method == "POST":
        # Rendered, not redirected: the secret exists only in this answer.
        secret = team_webhook_secret_rotate(team=team, by=request.user)
    return render(request, "scheduling/team_webhook.html", {"team": team, "secret": secret})
