"""Template tags of the site's skeleton (base.html)."""
