"""Site-wide request handling of our own: the chosen language, and the trusted-device cookie that sign-in
throttling (cms.login_throttle) relies on."""

from django.conf import settings
from django.utils import translation

from cms import login_throttle


class ChosenLanguageMiddleware:
    """Chinese unless the visitor chose English with the language switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language, so a member's phone set to English
    would get an English site; Lighthouse is Chinese first and English only by choice (a cookie).
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.languages = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.languages else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


class TrustedDeviceMiddleware:
    """After a successful interactive sign-in, mark this browser as trusted for that account (a signed cookie), so
    an attacker's failed guesses from elsewhere never lock the owner out of their own device
    (``cms.login_throttle``)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        username = getattr(request, "lighthouse_signed_in_as", None)
        if username:
            login_throttle.set_trusted_device_cookie(request, response, username)
        return response
