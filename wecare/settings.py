"""Django settings for WECARE.DIGITAL.

Every value comes from the environment, read here once and validated: a missing or malformed
required variable raises ConfigError naming it (see ``wecare/env.py``). Elsewhere, code reads
``django.conf.settings``. ``.env.example`` and ``docs/configuration.md`` list every variable.
"""

from __future__ import annotations

import re
from pathlib import Path

import dj_database_url
import phonenumbers

from wecare.env import ConfigError, env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# --- environment and send mode -------------------------------------------------------------
ENVIRONMENTS = ("production", "staging", "preview", "development")
ENVIRONMENT = env_choice("ENVIRONMENT", ENVIRONMENTS, default="development")
SEND_MODE = env_choice("SEND_MODE", ("DRY_RUN", "LIVE"), default="DRY_RUN")
if SEND_MODE == "LIVE" and ENVIRONMENT != "production":
    # Requirement 10.7 (docs/requirements.md): only production may really send. The one exception
    # is the local stack (ENVIRONMENT=development) talking to moto and the local provider fake,
    # which must be asked for explicitly; staging and preview can never be LIVE, whatever else is set.
    if ENVIRONMENT != "development" or not env_bool("ALLOW_LIVE_AGAINST_FAKE", False):
        raise ConfigError(f"SEND_MODE=LIVE is only allowed when ENVIRONMENT=production (ENVIRONMENT={ENVIRONMENT})")
    for _endpoint in ("AWS_ENDPOINT_URL", "AWS_FAKE_ENDPOINT_URL"):
        if not env_str(_endpoint, default=""):
            raise ConfigError(
                f"{_endpoint} is required with ALLOW_LIVE_AGAINST_FAKE=true "
                "(LIVE in development may only reach the local emulators)"
            )
IS_PRODUCTION_LIKE = ENVIRONMENT in ("production", "staging", "preview")

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if IS_PRODUCTION_LIKE and len(SECRET_KEY) < 50:
    raise ConfigError("DJANGO_SECRET_KEY is too short: expected at least 50 random characters")
DEBUG = env_bool("DJANGO_DEBUG", default=ENVIRONMENT == "development")
if DEBUG and IS_PRODUCTION_LIKE:
    raise ConfigError(f"DJANGO_DEBUG=true is not allowed when ENVIRONMENT={ENVIRONMENT}")
if IS_PRODUCTION_LIKE:
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    # "*" switches Host-header checking off (host-header poisoning of password-reset and absolute
    # URLs); a deployed site knows its names.
    if "*" in ALLOWED_HOSTS:
        raise ConfigError(
            f"ALLOWED_HOSTS may not contain '*' when ENVIRONMENT={ENVIRONMENT}: "
            "set the host names the site is reached under, comma-separated (e.g. app.example.com)"
        )
else:
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

# --- applications ----------------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "mozilla_django_oidc",
    "ninja",
    "wecare.apps.WecareConfig",
    "contacts",
    "messaging",
    "bulk",
    "ai",
]

MIDDLEWARE = [
    "wecare.middleware.RequestIdMiddleware",
    "wecare.middleware.HealthCheckMiddleware",  # before ALLOWED_HOSTS and the HTTPS redirect
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "wecare.middleware.BrowserSecurityMiddleware",  # after WhiteNoise: static files stay cacheable
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "wecare.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "wecare.middleware.AccessControlMiddleware",
]

ROOT_URLCONF = "wecare.urls"
WSGI_APPLICATION = "wecare.wsgi.application"

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
                "wecare.context_processors.platform",
                "messaging.context_processors.inbox",  # the sidebar's unread count
            ],
        },
    },
]

# The relational database holds only Django's own tables (auth, groups, sessions, admin log).
# Everything about the domain lives in DynamoDB.
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))}
if IS_PRODUCTION_LIKE and DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    raise ConfigError(f"DATABASE_URL must point at PostgreSQL when ENVIRONMENT={ENVIRONMENT}")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",  # project-wide assets (css/app.css), next to the apps' own
    # Chart.js as `npm ci` installs it from package-lock.json (the dashboard's charts; no CDN).
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION_LIKE
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- security (production shape; `manage.py check --deploy` passes with these) ---------------
if IS_PRODUCTION_LIKE:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- login: Cognito through OIDC, or password login on the local stack ------------------------
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_LOGIN_ENABLED = env_bool("PASSWORD_LOGIN_ENABLED", default=not IS_PRODUCTION_LIKE)
AWS_REGION = env_str("AWS_REGION", default="us-east-1")
COGNITO_USER_POOL_ID = env_str("COGNITO_USER_POOL_ID", default="us-east-1_CC9u1fYh6")
COGNITO_ISSUER = env_str(
    "COGNITO_ISSUER", default=f"https://cognito-idp.{AWS_REGION}.amazonaws.com/{COGNITO_USER_POOL_ID}"
)
COGNITO_DOMAIN = env_str("COGNITO_DOMAIN", default="")  # e.g. https://auth.example.com (hosted UI)
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", default="")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if IS_PRODUCTION_LIKE and not OIDC_ENABLED and not PASSWORD_LOGIN_ENABLED:
    raise ConfigError("OIDC_RP_CLIENT_ID is required when password login is off (no way to log in otherwise)")
if OIDC_ENABLED:
    AUTHENTICATION_BACKENDS.insert(0, "wecare.oidc.CognitoOIDCBackend")
    # Secrets never have defaults: with OIDC on, the client secret must be given.
    OIDC_RP_CLIENT_SECRET = env_str("OIDC_RP_CLIENT_SECRET")
    OIDC_RP_SIGN_ALGO = "RS256"
    OIDC_OP_AUTHORIZATION_ENDPOINT = env_str(
        "OIDC_OP_AUTHORIZATION_ENDPOINT", default=f"{COGNITO_DOMAIN}/oauth2/authorize"
    )
    OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_OP_TOKEN_ENDPOINT", default=f"{COGNITO_DOMAIN}/oauth2/token")
    OIDC_OP_USER_ENDPOINT = env_str("OIDC_OP_USER_ENDPOINT", default=f"{COGNITO_DOMAIN}/oauth2/userInfo")
    OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", default=f"{COGNITO_ISSUER}/.well-known/jwks.json")
    OIDC_OP_LOGOUT_URL = env_str("OIDC_OP_LOGOUT_URL", default="")
    OIDC_RP_SCOPES = "openid email profile"
else:
    OIDC_RP_CLIENT_SECRET = ""
    OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_OP_JWKS_ENDPOINT", default=f"{COGNITO_ISSUER}/.well-known/jwks.json")
# The API also accepts Cognito JWT bearer tokens; their audience is the app client id.
API_JWT_AUDIENCE = env_str("API_JWT_AUDIENCE", default=OIDC_RP_CLIENT_ID)
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- login throttling (django-axes): failed password logins per client IP and per username -------
# After LOGIN_FAILURE_LIMIT failures from one IP, or for one username, further logins are refused
# (429, with the reason on the login form) until LOGIN_COOLOFF_MINUTES pass with no new failure.
# Only where password login is on: Cognito throttles its own hosted UI.
INSTALLED_APPS.append("axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")  # turns a lockout into the login page's answer
AUTHENTICATION_BACKENDS.insert(0, "axes.backends.AxesStandaloneBackend")  # refuses a locked-out login first
AXES_ENABLED = PASSWORD_LOGIN_ENABLED
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", default=5, minimum=1)
LOGIN_COOLOFF_MINUTES = env_int("LOGIN_COOLOFF_MINUTES", default=15, minimum=1)
AXES_COOLOFF_TIME = LOGIN_COOLOFF_MINUTES / 60  # a float is read as hours
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]  # either one alone locks
AXES_LOCKOUT_CALLABLE = "wecare.login_throttle.locked_out"
AXES_CLIENT_IP_CALLABLE = "wecare.login_throttle.client_ip"
# A success must not wipe the failures counted against the same IP (one valid account would
# otherwise reset the count while guessing another's password).
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False  # wecare.signals logs each failure as a JSON line already
# Unlocking is `manage.py axes_reset_username` / `axes_reset_ip` (docs/configuration.md); axes' admin
# pages would add read-only models whose add pages refuse even an admin.
AXES_ENABLE_ADMIN = False

# --- AWS ----------------------------------------------------------------------------------------
# No credentials here: boto3's default chain (the task/instance role in production). The local
# stack points every client at a moto server on loopback through AWS_ENDPOINT_URL.
AWS_ENDPOINT_URL = env_str("AWS_ENDPOINT_URL", default="") or None
if AWS_ENDPOINT_URL and IS_PRODUCTION_LIKE:
    raise ConfigError(f"AWS_ENDPOINT_URL must be empty when ENVIRONMENT={ENVIRONMENT}")
# APIs that moto does not implement (socialmessaging, pinpoint-sms-voice-v2, bedrock-agent-runtime,
# bedrock-runtime) go to the local fake on the dev stack; empty means the real AWS endpoint.
AWS_FAKE_ENDPOINT_URL = env_str("AWS_FAKE_ENDPOINT_URL", default="") or None
if AWS_FAKE_ENDPOINT_URL and IS_PRODUCTION_LIKE:
    # A stray value would quietly send WhatsApp and SMS to a fake instead of the customer.
    raise ConfigError(f"AWS_FAKE_ENDPOINT_URL must be empty when ENVIRONMENT={ENVIRONMENT}")
AWS_ACCOUNT_ID = env_str("AWS_ACCOUNT_ID", default="123456789012" if AWS_ENDPOINT_URL else "809904170947")
DYNAMODB_TABLE_PREFIX = env_str("DYNAMODB_TABLE_PREFIX", default="")
SQS_QUEUE_PREFIX = env_str("SQS_QUEUE_PREFIX", default="")

WHATSAPP_PHONE_NUMBER_IDS = env_list(
    "WHATSAPP_PHONE_NUMBER_IDS",
    default=["phone-number-id-baa217c3f11b4ffd956f6f3afb44ce54", "phone-number-id-1447bc72d1b040f4bf2341c9e04b2e06"],
)
META_API_VERSION = env_str("META_API_VERSION", default="v20.0")
SMS_POOL_ID = env_str("SMS_POOL_ID", default="pool-6fbf5a5f390d4eeeaa7dbae39d78933e")
# The pool's two-way numbers (E.164): customers write to them, and a reply goes out from the number
# the customer wrote to (OriginationIdentity = the number), so each is on the SMS allowlist beside
# the pool. An inbound SMS to a number not listed is still recorded, with a warning.
SMS_NUMBERS = env_list("SMS_NUMBERS", default=[])
# The SMS opt-out list kept in agreement with contacts' SMS consent: a customer's opt-out word adds
# the number, a person's re-opt-in with evidence removes it (contacts/sms_opt_out_list.py).
SMS_OPT_OUT_LIST = env_str("SMS_OPT_OUT_LIST", default="Default")
# The SMS configuration set every SMS names, whose SNS event destination publishes delivery events to
# SMS_EVENTS_TOPIC_ARN (or SNS_TOPIC_ARN). bootstrap_aws creates both. Empty: none is named, and
# only a configuration set made the numbers' default by hand reports events.
SMS_CONFIGURATION_SET = env_str("SMS_CONFIGURATION_SET", default="")
SES_SENDER_EMAIL = env_str("SES_SENDER_EMAIL", default="one@wecare.digital")
SES_SENDER_NAME = env_str("SES_SENDER_NAME", default="WECARE.DIGITAL")
# Inbound email (docs/design/email.md): the addresses of ours that customers write to (the SES
# receipt rule's recipients; a mail's thread is "with" the first of them it reached), the SES
# receipt rule set bootstrap creates (empty: none), where SES's S3 action stores each mail and
# where its attachments are kept, and the domain of the Message-ID SES gives a mail it sends.
EMAIL_RECEIVING_ADDRESSES = [a.lower() for a in env_list("EMAIL_RECEIVING_ADDRESSES", default=[SES_SENDER_EMAIL])]
SES_RECEIPT_RULE_SET = env_str("SES_RECEIPT_RULE_SET", default="wecare-inbound")
EMAIL_INBOUND_MAIL_PREFIX = env_str("EMAIL_INBOUND_MAIL_PREFIX", default="email-inbound/")
EMAIL_ATTACHMENTS_PREFIX = env_str("EMAIL_ATTACHMENTS_PREFIX", default="email-attachments/")
SES_MESSAGE_ID_DOMAIN = env_str(
    "SES_MESSAGE_ID_DOMAIN",
    default="email.amazonses.com" if AWS_REGION == "us-east-1" else f"{AWS_REGION}.amazonses.com",
)
# The SES configuration set every email is sent with, whose SNS event destination reports bounces,
# complaints and deliveries (docs/deployment.md, "Email events"). Empty: none is named on the send
# (the identity's default configuration set, if it has one, still applies).
SES_CONFIGURATION_SET = env_str("SES_CONFIGURATION_SET", default="")
# How long a one-click unsubscribe link in a bulk email keeps working (contacts/unsubscribe.py).
# Gmail and Yahoo's bulk-sender rules expect a link to work for a good while after the mail; at
# least 60 days, so that one read weeks later still unsubscribes.
UNSUBSCRIBE_LINK_MAX_AGE_DAYS = env_int("UNSUBSCRIBE_LINK_MAX_AGE_DAYS", default=90, minimum=60)
MEDIA_BUCKET = env_str("MEDIA_BUCKET", default="auth.wecare.digital")
MEDIA_INBOUND_PREFIX = env_str("MEDIA_INBOUND_PREFIX", default="whatsapp-media/whatsapp-media-incoming/")
MEDIA_OUTBOUND_PREFIX = env_str("MEDIA_OUTBOUND_PREFIX", default="whatsapp-media/whatsapp-media-outgoing/")
REPORT_BUCKET = env_str("REPORT_BUCKET", default="stream.wecare.digital")
REPORT_PREFIX = env_str("REPORT_PREFIX", default="base-wecare-digital/reports/")
SNS_TOPIC_ARN = env_str("SNS_TOPIC_ARN", default=f"arn:aws:sns:{AWS_REGION}:{AWS_ACCOUNT_ID}:base-wecare-digital")
# The topics the SNS webhook accepts notifications from, besides SNS_TOPIC_ARN (WhatsApp events and
# alerts): two-way SMS, SMS delivery events, SES events, SES inbound mail. Each may be its own topic
# or, left empty, the main one (messaging/inbound/routing.py tells the kinds apart by their shape).
SMS_INBOUND_TOPIC_ARN = env_str("SMS_INBOUND_TOPIC_ARN", default="")
SMS_EVENTS_TOPIC_ARN = env_str("SMS_EVENTS_TOPIC_ARN", default="")
SES_EVENTS_TOPIC_ARN = env_str("SES_EVENTS_TOPIC_ARN", default="")
SES_INBOUND_TOPIC_ARN = env_str("SES_INBOUND_TOPIC_ARN", default="")
# Where the SNS webhook gets signing certificates (messaging/inbound/sns_certs.py). Deliberately not an
# environment variable: deployed environments always fetch them from AWS over HTTPS. The local stack's
# settings (localaws/settings.py) read moto's instead; tests point it at their own certificate.
SNS_CERT_LOADER = "messaging.inbound.sns_certs.fetch_from_aws"
# Critical-error alerts (wecare/alerts.py): published to ALERTS_TOPIC_ARN (empty: SNS_TOPIC_ARN), at
# most one per kind and subject every ALERT_REPEAT_MINUTES; repeats within it are counted on it.
ALERTS_TOPIC_ARN = env_str("ALERTS_TOPIC_ARN", default="") or SNS_TOPIC_ARN
ALERT_REPEAT_MINUTES = env_int("ALERT_REPEAT_MINUTES", default=60, minimum=1)
BEDROCK_KB_ID = env_str("BEDROCK_KB_ID", default="FZBPKGTOYE")
BEDROCK_AGENT_ID = env_str("BEDROCK_AGENT_ID", default="HQNT0JXN8G")
BEDROCK_AGENT_ALIAS_ID = env_str("BEDROCK_AGENT_ALIAS_ID", default="")
BEDROCK_FOUNDATION_MODEL = env_str("BEDROCK_FOUNDATION_MODEL", default="amazon.nova-pro-v1:0")
# What drafts a suggested reply (ai/pipeline/generate.py): "agent", the Bedrock agent with the
# knowledge base (InvokeAgent), or "converse", the foundation model alone on the retrieved passages.
AI_GENERATOR = env_choice("AI_GENERATOR", ("agent", "converse"), default="agent")
# Days an AI interaction (query, sources, draft, review) is kept before DynamoDB's TTL removes it.
AI_RETENTION_DAYS = env_int("AI_RETENTION_DAYS", default=90, minimum=1)
BULK_CONFIRMATION_THRESHOLD = env_int("BULK_CONFIRMATION_THRESHOLD", default=20, minimum=0)
# A bulk job sending the same content (template or text) as another job of the last this many hours
# to some of the same recipients starts only when the operator confirms the repeat (bulk/repeats.py).
# 0: no check.
BULK_REPEAT_WARNING_HOURS = env_int("BULK_REPEAT_WARNING_HOURS", default=24, minimum=0)
# A bulk recipient claimed (sending) this long ago with no outcome recorded: its worker died; the
# sweep reports it unknown and never sends it again (bulk/sweep.py).
BULK_STUCK_SENDING_MINUTES = env_int("BULK_STUCK_SENDING_MINUTES", default=10, minimum=1)
# Provider calls one bulk worker process has in flight at once (threads, bulk/in_flight.py): at a
# provider latency of L seconds a process sends at most this / L per second. A process killed
# mid-chunk leaves at most this + 40 recipients unknown (bulk.sending.max_unrecorded).
BULK_SEND_CONCURRENCY = env_int("BULK_SEND_CONCURRENCY", default=32, minimum=1)
# Open connections each AWS client (boto3, PynamoDB) keeps per endpoint: one per thread that may call
# at once (a bulk chunk's pool, the outbound threads pool), or urllib3 drops and reopens them.
AWS_MAX_POOL_CONNECTIONS = env_int("AWS_MAX_POOL_CONNECTIONS", default=max(64, BULK_SEND_CONCURRENCY + 16), minimum=10)
WHATSAPP_TIER_LIMIT = env_int("WHATSAPP_TIER_LIMIT", default=250, minimum=1)
# Outbound rate limits, tokens per second, shared by every worker (messaging/outbound/ratelimit.py).
RATE_LIMIT_WHATSAPP_PER_NUMBER = env_int("RATE_LIMIT_WHATSAPP_PER_NUMBER", default=80, minimum=1)
RATE_LIMIT_WHATSAPP_ACCOUNT = env_int("RATE_LIMIT_WHATSAPP_ACCOUNT", default=1000, minimum=1)
RATE_LIMIT_SMS = env_int("RATE_LIMIT_SMS", default=5, minimum=1)
RATE_LIMIT_EMAIL = env_int("RATE_LIMIT_EMAIL", default=10, minimum=1)
# AWS End User Messaging Social's account quotas for the media operations, requests per second.
RATE_LIMIT_WHATSAPP_MEDIA_UPLOAD = env_int("RATE_LIMIT_WHATSAPP_MEDIA_UPLOAD", default=100, minimum=1)
RATE_LIMIT_WHATSAPP_MEDIA_DOWNLOAD = env_int("RATE_LIMIT_WHATSAPP_MEDIA_DOWNLOAD", default=100, minimum=1)
# Staff email on inbound WhatsApp (messaging/autoreply/staff_notification.py): empty turns it off.
STAFF_NOTIFICATION_EMAIL = env_str("STAFF_NOTIFICATION_EMAIL", default="")
if STAFF_NOTIFICATION_EMAIL and not re.fullmatch(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+", STAFF_NOTIFICATION_EMAIL):
    raise ConfigError(f"STAFF_NOTIFICATION_EMAIL={STAFF_NOTIFICATION_EMAIL!r} is not valid: expected one email address")
STAFF_NOTIFICATION_MINUTES = env_int("STAFF_NOTIFICATION_MINUTES", default=10, minimum=1)
# Where people open the app (https://app.example.com): the base of links in emails.
SITE_URL = env_str("SITE_URL", default="http://127.0.0.1:8000" if ENVIRONMENT == "development" else "").rstrip("/")
if STAFF_NOTIFICATION_EMAIL and not SITE_URL:
    raise ConfigError("SITE_URL is required when STAFF_NOTIFICATION_EMAIL is set (the email links to the conversation)")

# --- Celery: SQS broker (moto locally), queues with redrive policies to their DLQs -------------
from wecare.queues import celery_broker_settings, heartbeat_schedule  # noqa: E402  (needs the values above)

CELERY_BROKER_URL, CELERY_BROKER_TRANSPORT_OPTIONS = celery_broker_settings(
    broker_url=env_str("CELERY_BROKER_URL", default=""),
    endpoint_url=AWS_ENDPOINT_URL,
    region=AWS_REGION,
    account_id=AWS_ACCOUNT_ID,
    prefix=SQS_QUEUE_PREFIX,
)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A worker's stdout stays the process's stdout: Celery would otherwise wrap every line a task
# prints in a log record ("celery.redirected"), and an EMF metric (wecare/metrics.py) inside a log
# line's message is no metric to CloudWatch: the alarms on what workers emit would see nothing.
CELERY_WORKER_REDIRECT_STDOUTS = False
# Each recorded message's words go to the inbox search's index (messaging/search_index.py) once its
# transaction commits. Always on where the platform runs; not an environment variable, since search
# without it silently misses messages. The test settings turn it off (most tests record messages and
# never search), and the tests that search turn it back on (conftest.py, `search_indexing`).
INBOX_SEARCH_INDEXING = True

# --- logging: JSON lines on stdout, each with the request id and the CloudWatch log group -----
LOG_LEVEL = env_choice("LOG_LEVEL", ("DEBUG", "INFO", "WARNING", "ERROR"), default="INFO")
LOG_GROUP = env_str("LOG_GROUP", default="/base-wecare-digital/common")
METRICS_NAMESPACE = env_str("METRICS_NAMESPACE", default="WECARE.DIGITAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "wecare.logs.ContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "timestamp", "levelname": "level", "name": "logger"},
        }
    },
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["context"]}},
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "botocore": {"level": "WARNING"},
        "pynamodb": {"level": "WARNING"},
    },
}
# The business's country: a number typed without + (a national number, "98123 45680") is read in
# it, in forms, the API and the import; a number with + is read as written whatever this is.
DEFAULT_PHONE_REGION = env_str("DEFAULT_PHONE_REGION", default="IN").upper()
if DEFAULT_PHONE_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ConfigError(f"DEFAULT_PHONE_REGION={DEFAULT_PHONE_REGION!r} is not a region code such as IN or US")
IMPORT_PREFIX = env_str("IMPORT_PREFIX", default="base-wecare-digital/imports/")
SEND_RETRY_BASE_SECONDS = float(env_str("SEND_RETRY_BASE_SECONDS", default="0.5"))  # backoff 0.5, 1, 2 s
CELERY_BEAT_SCHEDULE = {
    # Templates change in Meta's manager; keep the TEMPLATE_EUM copies fresh for the pickers.
    "sync-whatsapp-templates": {"task": "messaging.sync_templates", "schedule": 15 * 60},
    # Bulk recipients left `sending` by a worker that died become `unknown` (never re-sent), and
    # chunks recorded but not yet counted into their job are counted.
    "sweep-stuck-bulk-recipients": {"task": "bulk.sweep_stuck", "schedule": 5 * 60},
    # Numbers AWS lists as opted out of SMS whose contacts are still opted in (listed from the
    # console, or before the platform knew) get SMS consent off (contacts/sms_opt_out_sync.py).
    "reconcile-sms-opt-outs": {"task": "contacts.reconcile_sms_opt_outs", "schedule": 60 * 60},
    # A WhatsApp number's display name and phone, as Meta approved them, copied from AWS for every
    # page's labels (messaging/business_numbers.py); a name change also refreshes them at once.
    "refresh-business-numbers": {"task": "messaging.refresh_business_numbers", "schedule": 60 * 60},
    # The WhatsApp tier's use as a metric for its alarm (messaging/outbound/tier_metric.py).
    "measure-whatsapp-tier-use": {"task": "messaging.measure_tier_use", "schedule": 60},
    # One heartbeat a minute per worker service: its alarm fires after five silent minutes.
    **heartbeat_schedule(),
}
CELERY_TASK_ROUTES = {
    "messaging.send_outbound": {"queue": "outbound-queue"},
    "messaging.process_inbound_event": {"queue": "inbound-queue"},
    "messaging.process_sms_inbound": {"queue": "inbound-queue"},
    "messaging.process_sms_event": {"queue": "inbound-queue"},
    "messaging.process_email_event": {"queue": "inbound-queue"},
    "messaging.process_email_inbound": {"queue": "inbound-queue"},
    "messaging.fetch_inbound_media": {"queue": "inbound-queue"},
    "messaging.after_inbound": {"queue": "default"},
    "messaging.index_message_words": {"queue": "default"},
    "bulk.prepare_job": {"queue": "bulk-queue"},
    "bulk.send_chunk": {"queue": "bulk-queue"},
    "bulk.sweep_stuck": {"queue": "bulk-queue"},
    "ai.draft_reply": {"queue": "ai-queue"},
}

# --- browser security: Content-Security-Policy, no caching, idle sessions ----------------------
# Every script the pages run is a static file from this origin (static/js/app.js, htmx from
# django-htmx): no inline script, no event-handler attributes, no eval, no CDN. Styles are held to
# the same rule ('self' only: no <style> blocks, no style= attributes). Media in the inbox are
# presigned S3 links (the local moto server on the dev stack). See docs/security.md.
_media_origins = ["https://*.amazonaws.com", *([AWS_ENDPOINT_URL.rstrip("/")] if AWS_ENDPOINT_URL else [])]
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' data: {' '.join(_media_origins)}",
        f"media-src 'self' {' '.join(_media_origins)}",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        # Chromium applies form-action to a form's redirects too: logging out may end at Cognito.
        f"form-action 'self'{' ' + COGNITO_DOMAIN.rstrip('/') if COGNITO_DOMAIN else ''}",
    ]
)
# A session ends after this long without a person using it; what the pages do by themselves
# (polls, the read mark after a poll draws a message; sent with X-Background-Request) is not use.
# Sessions also end this many hours after login.
SESSION_IDLE_TIMEOUT_SECONDS = env_int("SESSION_IDLE_MINUTES", default=30, minimum=1) * 60
SESSION_COOKIE_AGE = env_int("SESSION_MAX_HOURS", default=12, minimum=1) * 3600
