"""Sign-in with a limit on failed attempts per account and address."""

from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorDict

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _key(request) -> str:
    username = (request.POST.get("username") or "").strip().lower()[:150]
    return f"login-failures:{request.META.get('REMOTE_ADDR', '')}:{username}"


class LoginView(auth_views.LoginView):
    """After MAX_FAILURES failed sign-ins in 15 minutes, refuse for the rest of the window."""

    def post(self, request, *args, **kwargs):
        if cache.get(_key(request), 0) >= MAX_FAILURES:
            # An unbound form: the password is not even checked.
            form = self.get_form_class()(
                request, initial={"username": request.POST.get("username")}
            )
            form._errors = ErrorDict(
                {
                    NON_FIELD_ERRORS: form.error_class(
                        [
                            "Too many failed sign-ins for this account from your address. "
                            "Wait 15 minutes, or ask an administrator to reset your password."
                        ]
                    )
                }
            )
            response = self.render_to_response(self.get_context_data(form=form))
            response.status_code = 429
            response["Retry-After"] = str(WINDOW_SECONDS)
            return response
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        key = _key(self.request)
        cache.add(key, 0, WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, WINDOW_SECONDS)
        return super().form_invalid(form)

    def form_valid(self, form):
        cache.delete(_key(self.request))
        return super().form_valid(form)
