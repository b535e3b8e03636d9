from rest_framework.permissions import SAFE_METHODS, BasePermission


class ReadOrAdminWrite(BasePermission):
    """Everyone signed in reads; administrators (staff) configure."""

    message = "Only administrators can change this."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or request.user.is_staff
