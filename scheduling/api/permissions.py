from rest_framework.permissions import SAFE_METHODS, BasePermission

from scheduling.api.auth import TokenScopes, session_only_message


class ReadOrAdminWrite(BasePermission):
    """Everyone signed in reads; administrators (staff) configure. Not for CI tokens."""

    message = "Only administrators can change this."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if not TokenScopes().has_permission(request, view):
            self.message = session_only_message(view, request.method)
            return False
        return request.method in SAFE_METHODS or request.user.is_staff
