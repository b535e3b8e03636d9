"""Sign-in limits, enforced by django-axes on every password check.

Axes sits first in AUTHENTICATION_BACKENDS, so `/accounts/login/`,
`/admin/login/` and anything else that calls `authenticate()` with a request
share one count, kept in the default cache (Redis when CACHE_URL is set, so
every worker and app machine counts together). The count is keyed on the
account *and* the client address: a stranger who knows a username locks out
only their own address, never the account's owner elsewhere.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth import authenticate
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse


def username(request: HttpRequest, credentials: dict | None) -> str:
    """The username as the count sees it: one count for "Alice" and " alice"."""
    raw = (credentials or {}).get("username") or request.POST.get("username") or ""
    return str(raw).strip().lower()[:150]


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """429 with Retry-After, as a page: the password was not even checked.

    The failure that reaches the limit was an ordinary wrong password, and
    answers as one (the form again); the lock-out starts with the next try.
    """
    counted_now = getattr(request, "axes_failures_since_start", None) is not None
    if counted_now and original_response is not None:
        return original_response
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = render(
        request, "registration/locked_out.html", {"minutes": seconds // 60}, status=429
    )
    response["Retry-After"] = str(seconds)
    return response


class SignInLimitBackend(AxesStandaloneBackend):
    """Axes' backend, except that a password check made without a request (the
    test client's login(), the shell) is let through instead of failing: no
    view of Clearway does that, and it has no address to count against."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _old_password_form(request: HttpRequest) -> type[AdminPasswordChangeForm]:
    class OldPasswordCounted(AdminPasswordChangeForm):
        """The old password goes through authenticate(), so a wrong one counts
        against the same (account, address) limit as a failed sign-in."""

        def clean_old_password(self):
            old_password = self.cleaned_data["old_password"]
            checked = authenticate(
                request, username=self.user.get_username(), password=old_password
            )
            if checked is None or checked.pk != self.user.pk:
                raise ValidationError(
                    self.error_messages["password_incorrect"], code="password_incorrect"
                )
            return old_password

    return OldPasswordCounted


def admin_password_change(request: HttpRequest) -> HttpResponse:
    """The admin's "change password" page, with the old password counted."""

    def view(request):
        return PasswordChangeView.as_view(
            form_class=_old_password_form(request),
            success_url=reverse("admin:password_change_done"),
            extra_context=admin.site.each_context(request),
        )(request)

    request.current_app = admin.site.name
    return admin.site.admin_view(view)(request)
