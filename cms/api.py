"""One JSON API for the phone and TV apps, described by OpenAPI at /api/v1/openapi.json (OWNER: API helper).
Each app adds its router here; search and courses will add theirs."""

from ninja import NinjaAPI

from library.api import router as library_router

api = NinjaAPI(title="灯塔 API", version="1", urls_namespace="api")
api.add_router("/library/", library_router)
