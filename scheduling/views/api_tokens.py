"""API tokens for CI on a page: create (shown once), list and revoke a team's tokens."""

from datetime import datetime, time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from scheduling.choices import TokenScope
from scheduling.errors import DomainError
from scheduling.models import Team
from scheduling.selectors import api_tokens_of
from scheduling.services.tokens import api_token_create, api_token_revoke
from scheduling.views.common import add_domain_error, viewer_zone


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. nightly deploy.")
    team = forms.ModelChoiceField(queryset=None, to_field_name="slug", empty_label=None)
    scopes = forms.MultipleChoiceField(
        choices=TokenScope.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[TokenScope.GATE_READ],
    )
    expires = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional: the token stops working when this day begins, in your zone.",
    )

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams


def _teams(user):
    return Team.objects.order_by("name") if user.is_staff else user.teams.order_by("name")


@never_cache  # shows a new token's secret once
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    teams = _teams(request.user)
    form = ApiTokenForm(request.POST or None, teams=teams)
    created = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        expires = (
            datetime.combine(data["expires"], time.min, tzinfo=viewer_zone(request))
            if data["expires"]
            else None
        )
        try:
            token, secret = api_token_create(
                team=data["team"],
                name=data["name"],
                scopes=list(data["scopes"]),
                expires=expires,
                by=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            # Rendered, not redirected: the secret exists only in this answer.
            created = {"token": token, "secret": secret}
            form = ApiTokenForm(teams=teams)
    context = {
        "form": form,
        "tokens": api_tokens_of(user=request.user),
        "created": created,
        "site_url": settings.SITE_URL,
        "now": timezone.now(),
    }
    return render(
        request, "scheduling/api_tokens.html", context, status=400 if form.errors else 200
    )


@login_required
@require_POST
def revoke(request, pk: int):
    try:
        api_token_revoke(token_id=pk, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The API token is revoked: it stops working at once.")
    return redirect("scheduling:api-tokens")
