from django.conf import settings
from django.utils import translation


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
