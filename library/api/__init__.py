"""The library's JSON API (/api/v1/library/) for the phone and TV apps and the web players: ``routes`` (mounted on
the project's API by cms/project/api.py) and the request and response ``schemas`` the OpenAPI document is made of."""
