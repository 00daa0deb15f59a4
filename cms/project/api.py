"""One JSON API for the phone and TV apps, described by OpenAPI at /api/v1/openapi.json.
Each app adds its router here.

Errors always come back as JSON with a Chinese ``detail`` a person can read (members are told what to fix, not
shown a stack trace): 401 not logged in, 403 CSRF, 404 not found (or not readable — never which), 422 bad input
with one line per field in ``errors``."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.renderers import JSONRenderer

from cms.api_auth import router as auth_router
from courses.api.routes import router as courses_router
from library.api.routes import router as library_router
from screens.api.routes import router as screens_router
from search.api import router as search_router

logger = logging.getLogger(__name__)


class ChineseJSONRenderer(JSONRenderer):
    """Chinese as UTF-8, not \\uXXXX escapes: a third of the bytes on a weak rural connection."""

    json_dumps_params = {"ensure_ascii": False}


# The answers the handlers below give to any operation, whatever the route declares: the schema lists them, so a
# client generated from it expects them (status code → when, in the description the schema shows).
SHARED_ERRORS = {
    400: "请求内容不是有效的 JSON",
    401: "需要登录（Bearer 令牌或登录会话）",
    403: "CSRF 校验失败（网页会话的修改类请求须带 X-CSRFToken）",
    422: "请求参数有误：detail 是一句话，errors 逐项说明（field、message、type）；超出范围的整数也在此列",
}
UNSAFE_METHODS = {"post", "put", "patch", "delete"}


class LighthouseAPI(NinjaAPI):
    """NinjaAPI whose schema lists the errors every operation really gives (see ``errors_documented``)."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        errors_documented(schema)
        return schema


ERROR_REF = "#/components/schemas/SharedErrorOut"
SHARED_ERROR_SCHEMA = {
    "title": "SharedErrorOut",
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "给人看的中文说明"},
        "errors": {
            "anyOf": [{"type": "array", "items": {"type": "object"}}, {"type": "null"}],
            "description": "422 时逐项说明：field、message、type",
        },
    },
    "required": ["detail"],
}


def errors_documented(schema: dict) -> None:
    """Add to each operation the shared error answers it can get: 422 wherever it takes parameters or a body
    (schema validation, services and cursors), 400 with a JSON body (unparseable), 401 where a credential is
    required (no empty security requirement), 403 for unsafe methods a browser session may call (CSRF). Each
    with the ErrorOut body the handlers send. Declared answers are kept as the route wrote them."""
    schema.setdefault("components", {}).setdefault("schemas", {})["SharedErrorOut"] = SHARED_ERROR_SCHEMA
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            security = operation.get("security", [])
            wanted = set()
            if operation.get("parameters") or operation.get("requestBody"):
                wanted.add(422)
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                wanted.add(400)
            if security and {} not in security:
                wanted.add(401)
            if method in UNSAFE_METHODS and any("SessionAuth" in requirement for requirement in security):
                wanted.add(403)
            responses = operation.setdefault("responses", {})
            for status in sorted(wanted):
                if status not in responses and str(status) not in responses:
                    responses[status] = _error_response(SHARED_ERRORS[status])


def _error_response(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ERROR_REF}}}}


api = LighthouseAPI(
    title="灯塔 API",
    version="1",
    urls_namespace="api",
    renderer=ChineseJSONRenderer(),
    description="灯塔手机、电视 App 与网页播放器使用的接口。网页用登录会话（修改类请求须带 X-CSRFToken），"
    "App 用 POST /api/v1/auth/token 换取的 Bearer 令牌。",
)
api.add_router("/auth/", auth_router)
api.add_router("/library/", library_router)
api.add_router("/search/", search_router)
api.add_router("/courses/", courses_router)
api.add_router("/screens/", screens_router)


def _field_message(error: dict) -> str:
    """One pydantic error in words a member (or an app developer) understands."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    messages = {
        "missing": _("缺少此项"),
        "float_type": _("必须是数字"),
        "float_parsing": _("必须是数字"),
        "int_type": _("必须是整数"),
        "int_parsing": _("必须是整数"),
        "int_from_float": _("必须是整数"),
        "bool_type": _("必须是 true 或 false"),
        "bool_parsing": _("必须是 true 或 false"),
        "string_type": _("必须是文字"),
        "string_pattern_mismatch": _("含有不允许的字符"),
        "timezone_aware": _("必须带时区（如 +08:00）"),
        "finite_number": _("必须是有限的数字（不能是 NaN 或无穷大）"),
        "greater_than_equal": _("不能小于 %(limit)s") % {"limit": ctx.get("ge")},
        "greater_than": _("必须大于 %(limit)s") % {"limit": ctx.get("gt")},
        "less_than_equal": _("不能大于 %(limit)s") % {"limit": ctx.get("le")},
        "less_than": _("必须小于 %(limit)s") % {"limit": ctx.get("lt")},
        "string_too_long": _("最多 %(limit)s 个字符") % {"limit": ctx.get("max_length")},
        "string_too_short": _("不能为空"),
        "literal_error": _("只能是 %(expected)s") % {"expected": ctx.get("expected")},
        "enum": _("只能是 %(expected)s") % {"expected": ctx.get("expected")},
        "model_attributes_type": _("请求内容必须是 JSON 对象"),
        "dict_type": _("请求内容必须是 JSON 对象"),
    }
    return messages.get(kind, _("格式不正确"))


def _field_name(error: dict) -> str:
    parts = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "payload")]
    return ".".join(parts)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    errors = [
        {"field": _field_name(error), "message": _field_message(error), "type": error.get("type", "")}
        for error in exc.errors
    ]
    summary = "；".join(f"{error['field']} {error['message']}".strip() for error in errors)
    return api.create_response(
        request, {"detail": _("请求参数有误：%(summary)s") % {"summary": summary}, "errors": errors}, status=422
    )


@api.exception_handler(DjangoValidationError)
def service_validation_error(request, exc: DjangoValidationError):
    """A service or a cursor refused the input: same shape as a schema error."""
    return api.create_response(request, {"detail": "；".join(exc.messages), "errors": []}, status=422)


@api.exception_handler(Http404)
def not_found(request, exc: Http404):
    detail = str(exc) if exc.args and str(exc) else _("未找到")
    return api.create_response(request, {"detail": detail}, status=404)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    detail = str(exc)
    if isinstance(exc, AuthenticationError) and detail == "Unauthorized":
        detail = _("请先登录")
    elif isinstance(exc, Throttled):
        detail = _("请求太频繁，请稍后再试")
    elif exc.status_code == 400 and detail.startswith("Cannot parse request body"):
        detail = _("请求内容不是有效的 JSON")
    return api.create_response(request, {"detail": detail}, status=exc.status_code)
