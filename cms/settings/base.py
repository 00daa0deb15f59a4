"""Settings shared by every environment.

Everything that differs between a laptop and the province's cluster comes from the environment. Each
integration (PostgreSQL, Redis task workers, S3, a search engine) switches on only when its variable is
set; unset, Lighthouse runs on the embedded default: SQLite in WAL mode, media on local disk and a
database-backed task worker, all under ``var/``.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("LIGHTHOUSE_VAR_DIR", BASE_DIR / "var"))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


# A placeholder key is fine for the embedded default; production.py refuses to start with it.
INSECURE_SECRET_KEY = "django-insecure-lighthouse-development-only"
SECRET_KEY = os.environ.get("SECRET_KEY", INSECURE_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "cms",
    "media_pipeline",
    "library",
    "courses",
    "screens",
    "search",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    # Wagtail's admin writes "7 秒之前" with Django's naturaltime, whose words are in this app's catalogue.
    "django.contrib.humanize",
    "axes",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # A screen's "manifest still this version?" answered with one query, before sessions and the API (issue 18).
    "screens.delivery.fastpath.ManifestNotModifiedMiddleware",
    # Before anything that writes the body: pages and JSON compressed, with short cache headers and ETags.
    "cms.project.page_delivery.PageDeliveryMiddleware",
    # Early, so it sees every response on the way out (including axes' lockout page).
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cms.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A TV signed in by a phone counts as signed in on the TV's own pages only (screens/tv/session.py).
    "screens.tv.session.TvSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "cms.middleware.TrustedDeviceMiddleware",
    # Last, as axes requires: it turns a locked-out sign-in into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cms.project.urls"
WSGI_APPLICATION = "cms.project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "cms" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cms.context_processors.site_preferences",
            ],
        },
    },
]

# --- Database: PostgreSQL when DATABASE_URL is set, else SQLite in WAL mode under var/.
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": Path(os.environ.get("SQLITE_PATH", VAR_DIR / "db.sqlite3")),
            "OPTIONS": {
                # WAL lets the web server read while the task worker writes; IMMEDIATE avoids
                # "database is locked" on upgrade from a read to a write transaction.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Kept between requests, as PostgreSQL's: opening the file and running the PRAGMAs above cost ~5 ms, more
            # than a screen's 304 itself (bench/screens_manifest.py: 0.10× a static file's rate without, 0.5–0.7×
            # with). Safe here: each gunicorn thread keeps its own; runserver (services/site) still closes every
            # connection when its request's thread ends; an idle connection is in autocommit and holds no WAL
            # snapshot, so checkpoints go on; task workers live outside requests and are unaffected.
            "CONN_MAX_AGE": 60,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks: an RQ queue on Redis when REDIS_URL is set, else the database worker.
REDIS_URL = os.environ.get("REDIS_URL", "")
# "search" is light and latency-sensitive; "media_light" (probing, pictures, documents) must not wait behind
# "media" (video encoding, heavy): at scale each gets its own workers (see services/site and docs).
TASK_QUEUES = ["search", "default", "media_light", "media"]
if REDIS_URL:
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 6 * 3600} for name in TASK_QUEUES}
    TASKS = {"default": {"BACKEND": "cms.project.task_backends.PriorityRQBackend", "QUEUES": TASK_QUEUES}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": TASK_QUEUES}}


def shared_cache(redis_url: str, var_dir: Path) -> dict:
    """One cache every process and machine shares (synonyms, sign-in throttles, memoised URLs): Redis in its own
    database number (the queues' is never flushed by cache.clear()), else files under var/ for the processes of
    one machine (the embedded default's web server and worker)."""
    if redis_url:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(redis_url)
        queue_db = int(parts.path.strip("/") or 0)
        location = urlunsplit(parts._replace(path=f"/{queue_db + 1}"))
        return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}}
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(var_dir / "cache" / "django"),
        }
    }


CACHES = shared_cache(REDIS_URL, VAR_DIR)

# --- Files: S3 through boto3 when S3_BUCKET is set, else local disk under var/media.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# JavaScript from the npm registry is served straight from node_modules (nothing vendored is committed), but only the
# files the site loads (cms/project/static_files.py): the packages' other builds, types and demos stay out of
# collectstatic. Patterns are globs relative to the package folder.
NODE_MODULES = BASE_DIR / "node_modules"
FOLIATE_MODULES = (
    "comic-book dict epub epubcfi fb2 fixed-layout footnotes mobi opds overlayer paginator progress quote-image search"
    " text-walker tts uri-template view"
).split()
STATIC_VENDOR_FILES = {
    # The player's library; the source map stays beside it because the file names it (manifest post-processing).
    "vendor/hls.js": (NODE_MODULES / "hls.js" / "dist", ["hls.min.js", "hls.min.js.map"]),
    "vendor/tus-js-client": (NODE_MODULES / "tus-js-client" / "dist", ["tus.min.js", "tus.min.js.map"]),
    # Report charts (the courses' reports page loads it only when a chart is on screen).
    "vendor/echarts": (NODE_MODULES / "echarts" / "dist", ["echarts.min.js"]),
    # Readers: pdf.js's legacy build (older phones and TVs too), minified, with cmaps/ and standard_fonts/ for Chinese
    # PDFs without embedded fonts, wasm/ and iccs/ for images and colours; foliate-js (EPUB; ES modules, zip.js
    # vendored) without its demo reader, tests and build configuration.
    "vendor/pdfjs-dist": (
        NODE_MODULES / "pdfjs-dist",
        [
            *("legacy/build/pdf.min.mjs", "legacy/build/pdf.worker.min.mjs", "cmaps/*", "standard_fonts/*", "iccs/*"),
            # Image decoders and colour management; not quickjs (PDF scripting, which the reader leaves off).
            *("wasm/jbig2*", "wasm/openjpeg*", "wasm/qcms*", "wasm/LICENSE*"),
        ],
    ),
    "vendor/foliate-js": (
        NODE_MODULES / "foliate-js",
        [
            *(f"{name}.js" for name in FOLIATE_MODULES),
            "ui/*.js",
            "vendor/*.js",
        ],
    ),
    # The TV's remote: arrow keys move focus to the nearest element in that direction (screens/tv).
    "vendor/spatial-navigation-polyfill": (
        NODE_MODULES / "spatial-navigation-polyfill" / "polyfill",
        ["spatial-navigation-polyfill.js"],
    ),
}
# The screens' Service Worker (screens/player): workbox-sw loads each module it uses by importScripts; the player
# tells it each module's static URL (hashed in production). Source maps stay beside the files that name them.
WORKBOX_MODULES = ("workbox-core", "workbox-routing", "workbox-strategies", "workbox-range-requests")
STATIC_VENDOR_FILES["vendor/workbox-sw"] = (
    NODE_MODULES / "workbox-sw" / "build",
    ["workbox-sw.js", "workbox-sw.js.map"],
)
STATIC_VENDOR_FILES.update(
    {
        f"vendor/{name}": (NODE_MODULES / name / "build", [f"{name}.prod.js", f"{name}.prod.js.map"])
        for name in WORKBOX_MODULES
    }
)
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "cms.project.static_files.VendorFinder",
]
# whitenoise serves hashed names with "max-age=315360000, immutable" (it asks the manifest which names are hashed),
# other static names for WHITENOISE_MAX_AGE (60 s without DEBUG; pdf.js asks for its cmaps and fonts by plain name,
# and a revalidation is a 304). Source maps are only for developers' tools: no .gz/.br of them.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [
    *("jpg jpeg png gif webp avif ico zip gz tgz bz2 tbz xz br swf flv woff woff2".split()),
    *("3gp 3gpp asf avi m4v mov mp4 mpeg mpg webm wmv map".split()),
]
# Pages (HTML, JSON) by default: see cms/project/page_delivery.py.
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "60"))
S3_BUCKET = os.environ.get("S3_BUCKET", "")
STORAGES = {
    # Local disk; masters and renditions get signed, expiring URLs (media_pipeline/storage.py).
    "default": {"BACKEND": "media_pipeline.storage.SignedFileSystemStorage"},
    # Hashed names (main.3f2a1c.css) that browsers keep for a year, each with .gz and .br beside it (whitenoise picks
    # by Accept-Encoding), compressed once per content (cms/project/static_files.py). cms/settings/test.py keeps
    # plain names so tests need no collectstatic.
    "staticfiles": {"BACKEND": "cms.project.static_files.StaticStorage"},
}
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "media_pipeline.storage.MediaS3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "access_key": os.environ.get("S3_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "custom_domain": os.environ.get("S3_CUSTOM_DOMAIN") or None,
            # A folder of the bucket for every name (S3_LOCATION=site-b): several sites, or parallel test workers,
            # share one bucket without their keys (renditions/<id>/...) meeting.
            "location": os.environ.get("S3_LOCATION", ""),
            "querystring_auth": True,
            "querystring_expire": 3600,
            "file_overwrite": False,
            "default_acl": None,
        },
    }

# --- Search: an Elasticsearch/OpenSearch cluster when SEARCH_URL is set, else the embedded index.
SEARCH_URL = os.environ.get("SEARCH_URL", "")
SEARCH_ENGINE = os.environ.get("SEARCH_ENGINE", "opensearch")
SEARCH_INDEX_PREFIX = os.environ.get("SEARCH_INDEX_PREFIX", "lighthouse")


def wagtail_search_backends(url: str, engine: str, prefix: str) -> dict:
    """Wagtail's admin search, Chinese-aware either way (search/admin_backends): the engine's modelsearch
    backend with our CJK analysis when SEARCH_URL is set, else the database storing our bigram terms."""
    if not url:
        return {"default": {"BACKEND": "search.admin_backends.database"}}
    return {
        "default": {
            "BACKEND": "search.admin_backends.engine",
            "ENGINE": engine,
            "URLS": [node.strip() for node in url.split(",") if node.strip()],
            "INDEX_PREFIX": f"{prefix}-admin-",
            # A search, or the task indexing a save, waits at most this long per node when the engine hangs.
            "TIMEOUT": 5,
        }
    }


WAGTAILSEARCH_BACKENDS = wagtail_search_backends(SEARCH_URL, SEARCH_ENGINE, SEARCH_INDEX_PREFIX)

# --- Media tools.
FFMPEG_BINARY = os.environ.get("FFMPEG_BINARY", "ffmpeg")
FFPROBE_BINARY = os.environ.get("FFPROBE_BINARY", "ffprobe")
MEDIA_WORK_DIR = Path(os.environ.get("MEDIA_WORK_DIR", VAR_DIR / "work"))
# A job whose worker stops renewing its lease for this long is handed to another worker.
MEDIA_JOB_LEASE_SECONDS = int(os.environ.get("MEDIA_JOB_LEASE_SECONDS", "120"))
MEDIA_JOB_MAX_ATTEMPTS = int(os.environ.get("MEDIA_JOB_MAX_ATTEMPTS", "3"))
# A job still queued this long after it was due has lost its task; the recovery sweep enqueues it again. Keep it
# above the time a backlog takes to drain, or the queue fills with (harmless) duplicate tasks.
MEDIA_JOB_REQUEUE_SECONDS = int(os.environ.get("MEDIA_JOB_REQUEUE_SECONDS", str(6 * 3600)))
# "h264_nvenc" uses NVIDIA's hardware encoder where ffmpeg can open one (checked once per process), else x264.
MEDIA_VIDEO_ENCODER = os.environ.get("MEDIA_VIDEO_ENCODER", "libx264")
# Sources longer than this (seconds) are encoded in chunks by several workers; unset: profiles.CHUNKING.
MEDIA_CHUNK_MIN_SECONDS = (
    float(os.environ["MEDIA_CHUNK_MIN_SECONDS"]) if os.environ.get("MEDIA_CHUNK_MIN_SECONDS") else None
)
MEDIA_CHUNK_SECONDS = float(os.environ["MEDIA_CHUNK_SECONDS"]) if os.environ.get("MEDIA_CHUNK_SECONDS") else None

# --- Users, language and time.
AUTH_USER_MODEL = "cms.Member"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Members sign in on the site (cms.accounts, /login/); editors keep Wagtail's /admin/login/, which the admin uses
# whatever LOGIN_URL says (WAGTAILADMIN_LOGIN_URL stays unset). Private Wagtail pages send visitors here too.
LOGIN_URL = "cms_sign_in"
WAGTAIL_FRONTEND_LOGIN_URL = LOGIN_URL
# How a forgotten password's code reaches the member's phone (cms/accounts/sms.py): the default only writes it to
# the log; set a provider's backend in production (`check --deploy` warns until then).
SMS_BACKEND = os.environ.get("SMS_BACKEND", "cms.accounts.sms.LoggingSMSBackend")

# Resident ID numbers from the roster, sealed at rest (cms/roster/keys.py): AES-GCM keys as `id:base64,…` (the first
# encrypts; older ones stay to decrypt until `manage.py rotate_identity_keys`), and the look-up hash's own key.
# Unset on the embedded default: development keys derived from SECRET_KEY; production requires both.
IDENTITY_KEYS = os.environ.get("IDENTITY_KEYS", "")
IDENTITY_HASH_KEY = os.environ.get("IDENTITY_HASH_KEY", "")
IDENTITY_PREVIOUS_HASH_KEY = os.environ.get("IDENTITY_PREVIOUS_HASH_KEY", "")
IDENTITY_KEYS_REQUIRED = False

# --- Sign-in throttling (django-axes; the rules and why: cms/login_throttle.py). Axes' backend comes first so a
# locked-out attempt is refused before any password hash; every authenticate() caller must pass the request.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    # Loads the member of a TV a phone signed in (never a password); marks that session as the TV's only.
    "screens.tv.session.TvSignInBackend",
]
# Failures are rows in the database (shared by every process and machine, on SQLite and PostgreSQL alike).
AXES_HANDLER = "cms.login_throttle.SignInThrottleHandler"
# Wrong passwords within AXES_COOLOFF_TIME before further attempts are refused until it has passed.
SIGN_IN_LIMITS = {
    "address": int(os.environ.get("SIGN_IN_LIMIT_ADDRESS", "20")),  # any usernames, one address
    "account_address": int(os.environ.get("SIGN_IN_LIMIT_ACCOUNT_ADDRESS", "5")),  # one username, one address
    "account": int(os.environ.get("SIGN_IN_LIMIT_ACCOUNT", "30")),  # one username, any address (untrusted clients)
}
AXES_FAILURE_LIMIT = 100  # percent of a rule's limit: the handler reports the worst rule as a percentage
AXES_LOCKOUT_PARAMETERS = ["ip_address", ["username", "ip_address"], "username"]  # for axes' reset commands
AXES_COOLOFF_TIME = timedelta(minutes=15)
# A refused attempt does not start the cool-off again: the lockout ends on time, and refusals write nothing.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "cms.login_throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "cms.login_throttle.client_ip_address"
AXES_ENABLE_ADMIN = False  # no django.contrib.admin here
# Reverse proxies in front of Django that append the client's address to X-Forwarded-For (production: 1).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
# Every editor works in China's one time zone: the account page offers no list of 600 zones named in English.
WAGTAIL_USER_TIME_ZONES = [TIME_ZONE]

# --- Wagtail.
WAGTAIL_SITE_NAME = "灯塔"
# Podcast feeds' itunes:owner (Apple sends its ownership checks to this address); without it the owner has a name
# only, which Apple's validator accepts but Podcasts Connect cannot verify.
PODCAST_OWNER_EMAIL = os.environ.get("PODCAST_OWNER_EMAIL", "")
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILIMAGES_IMAGE_MODEL = "cms.LighthouseImage"
WAGTAILDOCS_DOCUMENT_MODEL = "cms.LighthouseDocument"
WAGTAILDOCS_EXTENSIONS = ["pdf", "epub", "txt", "docx", "xlsx", "pptx", "zip"]
# Documents are streamed by Wagtail's view after the before_serve_document hook (library/admin/documents.py), never
# redirected to the storage URL: a presigned S3 link could be passed on, and /media/documents/ is signed-only.
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp", "avif"]
WAGTAIL_ENABLE_UPDATE_CHECK = False
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
# Uploads larger than this stream to a temporary file rather than memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Segment URLs inside a delivered media playlist stay valid for the playlist's own duration plus this margin
# (issue 16): a lecture played through never outlives its URLs, and after a longer pause the web player fetches
# the playlists again (access checked anew) and goes on where it was. Short in tests of that recovery.
MEDIA_PLAYBACK_URL_MARGIN_SECONDS = int(os.environ.get("MEDIA_PLAYBACK_URL_MARGIN_SECONDS", "3600"))
MEDIA_UPLOAD_MAX_BYTES = int(os.environ.get("MEDIA_UPLOAD_MAX_BYTES", str(4 * 1024**3)))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        name: {"level": os.environ.get("LOG_LEVEL", "INFO")}
        for name in ("cms", "library", "media_pipeline", "search", "django_tasks")
    },
}


def s3_origins(*, bucket: str, endpoint_url: str, custom_domain: str, region: str) -> list[str]:
    """Where the browser fetches presigned media from when S3 is configured: the endpoint (path-style and
    virtual-hosted-style), a custom domain, or AWS's own hosts."""
    if not bucket:
        return []
    origins = [f"https://{custom_domain}"] if custom_domain else []
    if endpoint_url:
        parts = urlsplit(endpoint_url)
        origins += [f"{parts.scheme}://{parts.netloc}", f"{parts.scheme}://{bucket}.{parts.netloc}"]
    else:
        origins += [f"https://{bucket}.s3.amazonaws.com"]
        origins += [f"https://{bucket}.s3.{region}.amazonaws.com"] if region else []
    return origins


# --- Content-Security-Policy (django-csp). No inline script anywhere on the site: our scripts are static files,
# data for them is in data- attributes or <script type="application/json">. The Wagtail admin is excluded: it
# runs inline scripts of its own that we cannot change, and is used only by signed-in editors. Item pages add to
# this policy (library/site/item.py) what the readers need.
S3_ORIGINS = s3_origins(
    bucket=S3_BUCKET,
    endpoint_url=os.environ.get("S3_ENDPOINT_URL", ""),
    custom_domain=os.environ.get("S3_CUSTOM_DOMAIN", ""),
    region=os.environ.get("S3_REGION", ""),
)
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *S3_ORIGINS],
        # hls.js plays through MediaSource (blob:) and gives its caption <track>s an empty "data:,WEBVTT".
        "media-src": [SELF, "blob:", "data:", *S3_ORIGINS],
        "connect-src": [SELF, *S3_ORIGINS],  # hls.js segments, pdf.js ranges, EPUB files
        "font-src": [SELF, "data:"],  # pdf.js may load a PDF's embedded fonts as data: URLs
        "worker-src": [SELF, "blob:"],  # pdf.js and hls.js workers
        "frame-ancestors": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    },
}

# Who may stream a media asset: the library decides (media_pipeline knows nothing of items).
MEDIA_PLAYBACK_ACCESS_CHECK = "library.access.playback_allowed"
# Which Wagtail image files local disk serves unsigned: not the pages of an issue not everyone may read.
MEDIA_IMAGE_PUBLIC_CHECK = "library.access.image_file_public"
# Whose transcode jobs an editor sees and acts on: the assets of items they manage (unset: superusers only).
MEDIA_ADMIN_ASSET_SCOPE = "library.admin.scoping.media_assets_managed_by"

# Screens' emergency signatures (screens/emergency/signing.py): "id:base64seed[,…]", the first signs. Unset: a
# development key derived from SECRET_KEY.
SCREENS_SIGNING_KEYS = os.environ.get("SCREENS_SIGNING_KEYS", "")
# How long proof of play is kept (days, Beijing calendar): a year of assessment and a month to spare. Older days are
# dropped whole, once a day (screens/plays/partitions.py).
SCREENS_PLAY_RETENTION_DAYS = int(os.environ.get("SCREENS_PLAY_RETENTION_DAYS", "400"))
