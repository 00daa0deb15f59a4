"""What a TV signed in by a phone may do: no more than the TV needs (attack finding: QR sign-in phishing).

Signing a TV in with a phone hands a session to whichever browser showed the code; a code passed on (a poster, a
chat message) would hand a member's full site session to a stranger. So such a session is marked by its own
authentication backend (``TvSignInBackend``, recorded in the session by ``login()``; a later password sign-in in the
same browser records its own backend and ends the mark), and ``TvSessionMiddleware`` lets it count as signed in only
where the TV's pages go: the TV's own pages (/tv/), the study clock's progress endpoint (library/js/progress.js) and
the player's playlists and posters. Everywhere else (the admin, account pages, the rest of the API) it is anonymous.
"""

import re

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.urls import Resolver404, resolve

TV_BACKEND = "screens.tv.session.TvSignInBackend"
# The views a TV page calls: its own namespace, and the player's HLS playlists and poster (media_pipeline.urls).
TV_NAMESPACE = "screens_tv"
TV_MEDIA_VIEWS = {
    "media_pipeline:hls_master",
    "media_pipeline:hls_variant",
    "media_pipeline:hls_iframes",
    "media_pipeline:hls_subtitles",
    "media_pipeline:poster",
}
# The study clock's heartbeats and resume (library/js/progress.js, API_BASE + "/items/<id>/progress").
TV_API_PATH = re.compile(r"^/api/v1/library/items/\d+/progress$")


class TvSignInBackend(ModelBackend):
    """Loads the member of a session a phone signed in on a TV; never checks a password (nobody signs in with it)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        return None


def is_tv_session(request) -> bool:
    session = getattr(request, "session", None)
    return session is not None and session.get(BACKEND_SESSION_KEY) == TV_BACKEND


def tv_may_reach(path: str) -> bool:
    """Whether a TV session counts as signed in at ``path``."""
    if TV_API_PATH.match(path):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.namespace == TV_NAMESPACE or match.view_name in TV_MEDIA_VIEWS


class TvSessionMiddleware:
    """After Django's AuthenticationMiddleware: a TV session is anonymous outside the TV's own paths."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_tv_session(request) and not tv_may_reach(request.path_info):
            request.user = AnonymousUser()
            request.auser = _anonymous
        return self.get_response(request)


async def _anonymous():
    return AnonymousUser()
