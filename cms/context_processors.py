def site_preferences(request):
    """Reader preferences kept in a cookie so pages need no JavaScript to honour them."""
    return {"large_type": request.COOKIES.get("lh_large_type") == "1"}
