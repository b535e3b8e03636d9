"""Feed tokens: a person's secret calendar addresses, shown once when created."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from scheduling.calendar_feeds.tokens import (
    feed_token_create,
    feed_token_revoke,
    feed_tokens_of,
    feed_urls,
)
from scheduling.errors import DomainError
from scheduling.forms import FeedTokenForm
from scheduling.views.common import add_domain_error


@never_cache  # shows a new token's secret addresses once
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    form = FeedTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = feed_token_create(user=request.user, name=form.cleaned_data["name"])
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            # Rendered, not redirected: the secret exists only in this answer.
            created = {"token": token, "urls": feed_urls(secret=secret)}
            form = FeedTokenForm()
    context = {"form": form, "tokens": feed_tokens_of(user=request.user), "created": created}
    return render(request, "scheduling/tokens.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def revoke(request, pk: int):
    try:
        token = feed_token_revoke(token_id=pk, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Feed token '{token.name}' is revoked.")
    return redirect("scheduling:feed-tokens")
