"""Settings for the bare floor of `make bench`: production settings, with the
URLs of bench/floor_urls.py (a constant DRF view beside the real ones).

Served only by the benchmark (DJANGO_SETTINGS_MODULE=bench.floor), never by a
deployment.
"""

from config.settings import *  # noqa: F403 - the production settings, one line changed

ROOT_URLCONF = "bench.floor_urls"
