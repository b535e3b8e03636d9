"""Error pages: the API answers JSON even for a path no view matches."""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import bad_request, page_not_found


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """JSON under /api/ (every API error is JSON, see DESIGN.md), the site's page elsewhere.

    /api/v1/jobs/abc/gate matches no route, so no DRF view answers it.
    """
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": "Not found."}, status=404)
    return page_not_found(request, exception)


@csrf_exempt  # it changes nothing; a POST to a wrong path is a 404, not a CSRF 403
def api_not_found(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """The last /api/ route: a JSON 404 also under DEBUG, where handler404 is not used."""
    return JsonResponse({"code": "not_found", "message": "Not found."}, status=404)


def bad_input(request: HttpRequest, exception: Exception) -> HttpResponse:
    """JSON under /api/ for what Django refuses before any view (a suspicious request)."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "invalid", "message": "The request could not be read."}, status=400
        )
    return bad_request(request, exception)
