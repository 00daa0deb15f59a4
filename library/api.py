"""The library's JSON API for the phone and TV apps (OWNER: API helper)."""

from ninja import Router

router = Router(tags=["library"])
