"""CI pipelines as test clients: a team token and an APIClient that sends it."""

from rest_framework.test import APIClient

from scheduling.services.tokens import api_token_create


def bearer(secret: str) -> APIClient:
    """A client that calls the API the way a CI pipeline does."""
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")


def token_for(team, *scopes: str, name: str = "deploy pipeline", **kwargs) -> str:
    """The secret of a new token of `team` (gate:read unless scopes are given)."""
    _, secret = api_token_create(
        team=team, name=name, scopes=list(scopes) or ["gate:read"], **kwargs
    )
    return secret
