"""What every page's template may read: reader preferences, and the signed-in member's unread notices."""

from django.utils.functional import SimpleLazyObject


def site_preferences(request):
    """Reader preferences kept in a cookie so pages need no JavaScript to honour them; the unread count (消息) is
    counted only if a template shows it (one indexed COUNT, for signed-in members)."""
    from .selectors import notices_unread_count

    user = getattr(request, "user", None)
    return {
        "large_type": request.COOKIES.get("lh_large_type") == "1",
        "unread_notices": SimpleLazyObject(lambda: notices_unread_count(user) if user else 0),
    }
