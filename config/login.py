"""Sign-in. Failed attempts are limited by django-axes for every password check
(see config/sign_in.py), so this is Django's own view."""

from django.contrib.auth.views import LoginView

__all__ = ["LoginView"]
