"""Clearway settings. Every deployment knob is an environment variable (see README)."""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import (
    env_bool,
    env_duration,
    env_int,
    env_list,
    env_rate,
    env_str,
    env_zone,
)
from config.shared_state import caches_for, trusted_proxies

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
# Only for a first run on a laptop; `check --deploy` flags it (W009) and the
# production guide says to set SECRET_KEY.
SECRET_KEY = env_str("SECRET_KEY") or "django-insecure-clearway-local-development-only"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "axes",
    "scheduling",
    "blackouts",
    "deadlines",
    "demo",
    "integrations",
    "operations",
    "idempotency",
]

MIDDLEWARE = [
    # Counts the gate's answers for /metrics (see operations.middleware).
    "operations.middleware.GateAnswerCounter",
    "scheduling.middleware.DatabaseBusyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "scheduling.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Late, so it turns a sign-in refused by the limit into its 429 page.
    "axes.middleware.AxesMiddleware",
    # Innermost, so a replayed answer still gets every header above.
    "idempotency.middleware.IdempotencyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite is the embedded default for a first run; production and CI use
# PostgreSQL through DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # IMMEDIATE takes the write lock when a transaction begins, so two
    # bookings racing for the same slot queue up behind each other instead
    # of one failing with "database is locked" halfway through.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Clearway is the gate in front of risky changes: it must answer quickly
    # even when its own tables are locked. A lock wait or a runaway statement
    # fails fast (and the API answers 503 with Retry-After) instead of hanging.
    DATABASES["default"]["OPTIONS"] = {
        "options": " ".join(
            f"-c {name}={env_int(var, default, minimum=0)}"
            for name, var, default in (
                ("lock_timeout", "DB_LOCK_TIMEOUT_MS", 3000),
                ("statement_timeout", "DB_STATEMENT_TIMEOUT_MS", 15000),
                ("idle_in_transaction_session_timeout", "DB_IDLE_IN_TRANSACTION_MS", 60000),
            )
        ),
        # The gate's and state's reads (scheduling.db.one_round_trip) are sent
        # with server-side binding and prepared on first use, once per
        # connection: planning them cost more than running them. The ORM's
        # client-side cursors are never prepared. DB_PREPARED=0 turns it off
        # (a transaction-pooling PgBouncer: the gate's read is PREPAREd in SQL,
        # which PgBouncer does not follow, whatever its version).
        "prepare_threshold": 0 if env_bool("DB_PREPARED", True) else None,
    }
    # The same backend, whose health check needs no round trip on a live connection.
    DATABASES["default"]["ENGINE"] = "config.postgresql"
    if env_bool("DB_POOL", False):
        from psycopg_pool import ConnectionPool

        # Django's pool replaces persistent connections; a request waits at
        # most DB_POOL_TIMEOUT seconds for a connection, then gets a 503.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 2, minimum=0),
            "max_size": env_int("DB_POOL_MAX", 10, minimum=1),
            "timeout": env_int("DB_POOL_TIMEOUT", 2, minimum=1),
            # A connection killed while idle (failover, restart) is replaced
            # when handed out, instead of failing the request that gets it.
            "check": ConnectionPool.check_connection,
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Time -----------------------------------------------------------------
USE_TZ = True
TIME_ZONE = env_zone("TIME_ZONE", "UTC")
LANGUAGE_CODE = "en"
USE_I18N = False

# --- Static files ---------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# --- Security (production defaults; see docs/deploy.md) -------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# Preloading is a commitment to HTTPS for the whole domain; set 0 if it is not yours to make.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts only from Clearway itself (or with the request's nonce): a stored
# XSS that slipped past escaping still could not run. Inline styles stay
# allowed (the calendar positions its bars with style attributes, Swagger UI
# has a <style> block); they cannot run code.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- Email ----------------------------------------------------------------
# Development prints mail to the console; production sends it over SMTP.
_MAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _MAIL_BACKEND,
        "OPTIONS": (
            {
                "host": env_str("EMAIL_HOST", "localhost"),
                "port": env_int("EMAIL_PORT", 25),
                "username": env_str("EMAIL_HOST_USER"),
                "password": env_str("EMAIL_HOST_PASSWORD"),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "timeout": 10,
            }
            if _MAIL_BACKEND.endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Clearway <clearway@localhost>")

# --- API ------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "scheduling.api.auth.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "scheduling.api.auth.TokenScopes",
    ],
    "DEFAULT_THROTTLE_RATES": {"ci": env_rate("CLEARWAY_API_RATE", "1200/min")},
    "DEFAULT_PARSER_CLASSES": [
        "scheduling.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "scheduling.api.pagination.Pages",
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "scheduling.api.errors.exception_handler",
    "DATETIME_FORMAT": "iso-8601",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Clearway API",
    "DESCRIPTION": "Maintenance calendar, conflict checks, reviews and a gate for CI.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "scheduling.api.schema.add_error_responses",
        "idempotency.schema.add_idempotency_key",
    ],
}

# --- Background work (django-q2) -----------------------------------------
CLEARWAY_TASKS_SYNC = env_bool("CLEARWAY_TASKS_SYNC", False)
Q_CLUSTER = {
    "name": "clearway",
    "orm": "default",
    "workers": env_int("Q_WORKERS", 2, minimum=1),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 5,
    "ack_failures": True,
    "catch_up": False,
    # The monitor keeps every result; the daily upkeep prunes them per function
    # (scheduling.services.task_results explains why).
    "save_limit": 0,
    "sync": CLEARWAY_TASKS_SYNC,
}

# --- Clearway -------------------------------------------------------------
# The conflict engine asks each of these for the busy windows touching a
# range; it never imports the apps' models (see DESIGN.md, Architecture).
CLEARWAY_WINDOW_SOURCES = [
    "scheduling.sources.freeze_windows",
    "scheduling.sources.maintenance_windows",
    "scheduling.sources.outside_allowed_windows",
    "blackouts.sources.blackout_windows",
    "deadlines.sources.traffic_windows",
]
# Checks, state, gate and slots read the stored timeline (scheduling.timeline);
# off, they fold the raw sources above as before (the oracle, for comparison).
CLEARWAY_TIMELINE = env_bool("CLEARWAY_TIMELINE", True)
# Per-process caches of windows and answers (scheduling.window_cache). Optional:
# several app machines behave like one with them off.
CLEARWAY_PROCESS_CACHES = env_bool("CLEARWAY_PROCESS_CACHES", True)
# How long a process trusts a token it has read (scheduling.token_cache): a
# revocation elsewhere takes effect within this many seconds; 0 reads every time.
CLEARWAY_TOKEN_CACHE_SECONDS = env_int("CLEARWAY_TOKEN_CACHE_SECONDS", 5, minimum=0)
CLEARWAY_TRAFFIC_LEAD = env_duration("CLEARWAY_TRAFFIC_LEAD", timedelta(hours=48))
CLEARWAY_TRAFFIC_TAIL = env_duration("CLEARWAY_TRAFFIC_TAIL", timedelta(hours=6))
CLEARWAY_TRAFFIC_FLAG = env_int("CLEARWAY_TRAFFIC_FLAG", 200, minimum=1)
CLEARWAY_TRAFFIC_REFUSE = env_int("CLEARWAY_TRAFFIC_REFUSE", 1000, minimum=1)
if CLEARWAY_TRAFFIC_FLAG > CLEARWAY_TRAFFIC_REFUSE:
    raise ImproperlyConfigured(
        "CLEARWAY_TRAFFIC_FLAG must not exceed CLEARWAY_TRAFFIC_REFUSE "
        f"({CLEARWAY_TRAFFIC_FLAG} > {CLEARWAY_TRAFFIC_REFUSE})."
    )
CLEARWAY_HORIZON_DAYS = env_int("CLEARWAY_HORIZON_DAYS", 400, minimum=1)
CLEARWAY_MAX_JOB_OCCURRENCES = env_int("CLEARWAY_MAX_JOB_OCCURRENCES", 500, minimum=1)
CLEARWAY_MAX_RULE_OCCURRENCES = env_int("CLEARWAY_MAX_RULE_OCCURRENCES", 5000, minimum=1)
CLEARWAY_DEFAULT_DEADLINE_SYSTEMS = env_list(
    "CLEARWAY_DEFAULT_DEADLINE_SYSTEMS", ["submissions-web", "grading-api"]
)
CLEARWAY_ADMIN_TEAM = env_str("CLEARWAY_ADMIN_TEAM", "platform")
# Members of these teams are curriculum staff in the web UI (deadlines, feeds).
CLEARWAY_CURRICULUM_TEAMS = env_list("CLEARWAY_CURRICULUM_TEAMS", ["curriculum"])
CLEARWAY_FEED_ALLOWED_NETWORKS = env_list("CLEARWAY_FEED_ALLOWED_NETWORKS")
# How long an API request's Idempotency-Key and first answer are kept.
CLEARWAY_IDEMPOTENCY_TTL = env_duration("CLEARWAY_IDEMPOTENCY_TTL", timedelta(hours=24))

# --- Calendar feeds (iCal) -------------------------------------------------
# The feed view in `scheduling` asks each of these for its events, so it never
# imports the blackouts or deadlines models (as with CLEARWAY_WINDOW_SOURCES).
CLEARWAY_FEED_SOURCES = [
    "scheduling.calendar_feeds.jobs.MaintenanceFeedSource",
    "blackouts.calendar_feed.BlackoutFeedSource",
    "scheduling.calendar_feeds.freezes.FreezeFeedSource",
    "deadlines.calendar_feed.DeadlineFeedSource",
]
# Anonymous /calendar/public/<system>.ics of approved maintenance (status page).
CLEARWAY_PUBLIC_CALENDARS = env_bool("CLEARWAY_PUBLIC_CALENDARS", False)
# How long a cancelled job or withdrawn deadline stays in feeds as CANCELLED.
CLEARWAY_FEED_CANCELLED_KEPT = env_duration("CLEARWAY_FEED_CANCELLED_KEPT", timedelta(days=1))
# Each event's text is stored in the database (scheduling.FeedText); this cache
# keeps only the feeds' validators (ETag, Last-Modified) for a minute. Per
# process by default; with CACHE_URL every alias lives in that Redis
# (config/shared_state.py).
CLEARWAY_FEED_CACHE = "calendar-feeds"
CACHES = caches_for(
    url=env_str("CACHE_URL").strip(),
    feed_cache=CLEARWAY_FEED_CACHE,
    feed_entries=env_int("CLEARWAY_FEED_CACHE_ENTRIES", 50_000, minimum=100),
)

# --- Sign-in limits (django-axes; see config/sign_in.py) -------------------
AUTHENTICATION_BACKENDS = [
    "config.sign_in.SignInLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Proxies whose X-Forwarded-For is believed (addresses or CIDRs); empty: REMOTE_ADDR.
CLEARWAY_TRUSTED_PROXIES = [str(n) for n in trusted_proxies(env_list("CLEARWAY_TRUSTED_PROXIES"))]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_CACHE = "default"
# After 5 failures within 15 minutes, that (account, address) pair is refused
# for 15 minutes, the right password too.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Failures while locked out do not push the end of the lock-out further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "config.client_address.counted_address"
AXES_USERNAME_CALLABLE = "config.sign_in.username"
AXES_LOCKOUT_CALLABLE = "config.sign_in.locked_out"
AXES_VERBOSE = False
# The cache handler writes no AccessAttempt rows; an empty admin page would mislead.
AXES_ENABLE_ADMIN = False
if not env_str("CACHE_URL").strip():
    # Per-process memory is right for `make run` (one process); docs/deploy.md
    # says to set CACHE_URL wherever several processes serve.
    SILENCED_SYSTEM_CHECKS = ["axes.W001"]

# A remote deadline feed gets this many seconds for the whole fetch (also the
# connect and per-read timeout), at most this many bytes (after decompression)
# and events (after expanding recurring ones); beyond that the sync fails.
CLEARWAY_FEED_TIMEOUT = env_int("CLEARWAY_FEED_TIMEOUT", 30, minimum=1)
CLEARWAY_FEED_MAX_BYTES = env_int("CLEARWAY_FEED_MAX_BYTES", 10_000_000, minimum=1)
CLEARWAY_FEED_MAX_EVENTS = env_int("CLEARWAY_FEED_MAX_EVENTS", 5000, minimum=1)
# One recurring event of a feed or upload yields at most this many deadlines
# in the horizon (a daily quiz for a term fits); beyond, that event is a row error.
CLEARWAY_FEED_MAX_OCCURRENCES = env_int("CLEARWAY_FEED_MAX_OCCURRENCES", 200, minimum=1)

# --- GitHub App: deployment protection rule (integrations/, docs/github.md) --
CLEARWAY_GITHUB_APP_ID = env_str("CLEARWAY_GITHUB_APP_ID")
# The App's private key: the PEM text, or (better) a file only Clearway reads.
CLEARWAY_GITHUB_PRIVATE_KEY = env_str("CLEARWAY_GITHUB_PRIVATE_KEY")
CLEARWAY_GITHUB_PRIVATE_KEY_FILE = env_str("CLEARWAY_GITHUB_PRIVATE_KEY_FILE")
# Without it the webhook endpoint answers 404.
CLEARWAY_GITHUB_WEBHOOK_SECRET = env_str("CLEARWAY_GITHUB_WEBHOOK_SECRET")
CLEARWAY_GITHUB_API_URL = env_str("CLEARWAY_GITHUB_API_URL", "https://api.github.com").rstrip("/")
# Delivery ids are kept this long to recognise a redelivery, then pruned daily.
CLEARWAY_GITHUB_DELIVERIES_KEEP = env_duration(
    "CLEARWAY_GITHUB_DELIVERIES_KEEP", timedelta(days=30)
)
# Delivery channels `kind:target` that apps building on scheduling send.
CLEARWAY_DELIVERY_SENDERS = {"github": "integrations.github.answers.deliver"}
# Runs and monitored databases (the operations app; see docs/monitoring.md).
CLEARWAY_RUN_LOST_AFTER = env_duration("CLEARWAY_RUN_LOST_AFTER", timedelta(minutes=10))
CLEARWAY_OVERRUN_REPEAT = env_duration("CLEARWAY_OVERRUN_REPEAT", timedelta(minutes=30))
CLEARWAY_WATCH_INTERVAL = env_int("CLEARWAY_WATCH_INTERVAL", 30, minimum=5)
CLEARWAY_WATCH_LOCK_SECONDS = env_int("CLEARWAY_WATCH_LOCK_SECONDS", 60, minimum=1)
CLEARWAY_WATCH_CONNECTIONS_PERCENT = env_int("CLEARWAY_WATCH_CONNECTIONS_PERCENT", 80, minimum=1)
CLEARWAY_WATCH_CONNECT_TIMEOUT = env_int("CLEARWAY_WATCH_CONNECT_TIMEOUT", 5, minimum=1)
# The apps' recurring rules rolled on to the horizon by the daily
# scheduling.tasks.refresh_horizon (dotted paths, called with `now` inside its
# one transaction and calendar change, after the allowed windows and freezes).
CLEARWAY_HORIZON_ROLLS = ["blackouts.services.blackouts_refresh_horizon"]
# Daily upkeep of the apps built on scheduling (dotted paths, called with no
# arguments by scheduling.tasks.refresh_horizon).
CLEARWAY_DAILY_TASKS = ["integrations.tasks.prune_deliveries"]
# Extra reasons a closed gate gives (dotted paths, called with job_id and at).
CLEARWAY_GATE_NOTES = ["operations.selectors.gate_overrun_reasons"]
# Encrypts monitoring DSNs; derived from SECRET_KEY unless set (rotate both together).
CLEARWAY_MONITOR_KEY = env_str("CLEARWAY_MONITOR_KEY") or SECRET_KEY
# Networks a monitored database may resolve to besides public addresses: the
# private ranges by default; loopback must be listed; link-local never passes.
CLEARWAY_MONITOR_ALLOWED_NETWORKS = env_list(
    "CLEARWAY_MONITOR_ALLOWED_NETWORKS",
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
)
# Prometheus reads /metrics with this bearer token; empty: administrators only.
CLEARWAY_METRICS_TOKEN = env_str("CLEARWAY_METRICS_TOKEN")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # A 423 from the gate or a 409 refusal is an answer, not a warning;
        # 5xx are still logged.
        "django.request": {"level": "ERROR"},
    },
}
