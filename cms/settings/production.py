"""Production: everything from the environment, and refuse to start when something is unsafe."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DEBUG, INSECURE_SECRET_KEY, SECRET_KEY, env_bool

if SECRET_KEY == INSECURE_SECRET_KEY or len(SECRET_KEY) < 40:
    raise ImproperlyConfigured("生产环境必须设置 SECRET_KEY（至少 40 个字符），不能使用默认值。")
if DEBUG:
    raise ImproperlyConfigured("生产环境不能开启 DEBUG=True。")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Production runs behind a reverse proxy (see SECURE_PROXY_SSL_HEADER): sign-in throttling counts the client's
# address from X-Forwarded-For as that proxy wrote it, not the proxy's own. Set to the number of proxies that append
# to X-Forwarded-For (0 when Django is reached directly, or clients could write their own address).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1"))

# No SMS provider unless one is named: an empty backend switches the SMS password reset off (the branch secretary's
# way stays); the logging backend of the embedded default would write members' codes into the log.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "")

# ID numbers are never sealed with keys derived from SECRET_KEY here: IDENTITY_KEYS and IDENTITY_HASH_KEY or no roster.
IDENTITY_KEYS_REQUIRED = True
