"""`manage.py check`: a GitHub App half configured answers every deployment with an error."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Warning, register


@register()
def github_app_configured(app_configs, **kwargs):
    if not settings.CLEARWAY_GITHUB_WEBHOOK_SECRET:
        return []
    problems = []
    if not settings.CLEARWAY_GITHUB_APP_ID:
        problems.append("CLEARWAY_GITHUB_APP_ID is not set")
    key_file = settings.CLEARWAY_GITHUB_PRIVATE_KEY_FILE
    if not settings.CLEARWAY_GITHUB_PRIVATE_KEY and not key_file:
        problems.append("neither CLEARWAY_GITHUB_PRIVATE_KEY_FILE nor CLEARWAY_GITHUB_PRIVATE_KEY")
    elif key_file and not Path(key_file).is_file():
        problems.append(f"CLEARWAY_GITHUB_PRIVATE_KEY_FILE {key_file} is not a readable file")
    if not problems:
        return []
    return [
        Warning(
            "The GitHub webhook is on (CLEARWAY_GITHUB_WEBHOOK_SECRET) but Clearway cannot "
            f"answer GitHub: {'; '.join(problems)}.",
            hint="See docs/github.md, step 1.",
            id="integrations.W001",
        )
    ]
