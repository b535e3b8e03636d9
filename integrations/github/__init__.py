"""The GitHub App: webhook signatures, app authentication and deployment answers."""
