"""The search JSON API, mounted at /api/v1/search/: the search page's results for the phone and TV apps, and the
suggestions the page's search box shows while a member types.

Reads go through search.selectors only. Anyone may search (visitors see public items; a token or session widens
what is found, never what is counted in facets). Bad input is a 422 with a Chinese message, a failed search
service a 503: never a 500, never an engine's own error text."""

from datetime import datetime
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from cms.api_auth import PUBLIC_AUTH, PUBLIC_OPENAPI, ErrorOut, api_user
from cms.selectors import unit_path
from search.engines.results import FACET_DIMENSIONS, Hit, SearchError, SearchResults
from search.selectors import MAX_PAGE, SUGGESTION_LIMIT, last_page, search, suggestions
from search.services import record_search

router = Router(tags=["search"])

NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot store or compare text with NUL bytes
MAX_QUERY_INPUT = 1000  # longer is refused; of what is accepted only the first 100 characters are searched
ERRORS = {422: ErrorOut, 503: ErrorOut}


class HitOut(Schema):
    doc_id: str = Field(description="文档编号，例如 library.libraryitem:42")
    kind: str = Field(description="类型代码：video、audio、article、ebook、periodical、newspaper、course 等")
    kind_label: str = Field(description="类型名称（中文）")
    title: str = Field(description="标题（纯文本）")
    title_html: str = Field(description="标题，已转义的 HTML，命中的词用 <mark> 标出")
    snippet_html: str = Field(description="摘要，已转义的 HTML，命中的词用 <mark> 标出")
    url: str = Field(description="网页地址（绝对地址），没有网页时为空")
    date: datetime | None = Field(description="发布日期")
    score: float = Field(description="相关度得分，只用于比较同一次搜索的结果")
    promoted: bool = Field(description="是否为编辑推荐")


class FacetValueOut(Schema):
    value: str = Field(
        description="筛选值：原样作为同名参数传回即可按它筛选；unit 的值是单位 id，作为 owner 参数传回"
        "（只看这个单位自己的内容，与计数一致）"
    )
    label: str = Field(description="显示名称")
    count: int = Field(description="当前条件下的结果数（只计当前用户能看到的内容）")


class FacetsOut(Schema):
    kind: list[FacetValueOut] = Field(default_factory=list, description="按类型")
    subject: list[FacetValueOut] = Field(default_factory=list, description="按主题")
    year: list[FacetValueOut] = Field(default_factory=list, description="按年份")
    unit: list[FacetValueOut] = Field(
        default_factory=list, description="按所属单位（前 10 个）：计数只含该单位自己的内容，按它筛选请用 owner 参数"
    )
    access: list[FacetValueOut] = Field(default_factory=list, description="按访问范围：公开、党员、本单位")


class SearchOut(Schema):
    query: str = Field(description="实际搜索的词（自动更正后为更正后的词）")
    total: int = Field(
        description="与搜索词匹配的结果总数。编辑推荐的内容如果本身也匹配，计入此数（只列在 promoted 里，"
        "不在 hits 中重复出现）；只因推荐而出现、本身不匹配的不计入"
    )
    page: int = Field(description="当前页码，从 1 开始")
    per_page: int = Field(description="每页条数")
    num_pages: int = Field(description="可以翻到的页数（最多到第 10000 条结果所在的页，再往后没有结果）")
    hits: list[HitOut] = Field(description="本页结果，最相关（或最新）的在前")
    promoted: list[HitOut] = Field(description="编辑推荐，只在第一页、未筛选时出现，应显示在结果之前")
    facets: FacetsOut = Field(description="筛选项及其结果数（facets=false 时为空）")
    did_you_mean: str = Field(description="“你是不是要找”的建议词，没有时为空")
    corrected_from: str = Field(description="原搜索词没有结果、已自动改搜 query 时，这里是用户原来输入的词")
    degraded: bool = Field(description="搜索引擎暂时不可用，结果来自基本搜索（排序可能稍差）")
    notice: str = Field(description="“empty”：搜索词里没有可以搜索的文字（例如只有标点或表情）；否则为空")


class SuggestionOut(Schema):
    text: str = Field(description="建议的标题")
    url: str = Field(description="该条内容的网页地址（绝对地址），没有时为空")


class SuggestOut(Schema):
    query: str = Field(description="收到的输入")
    suggestions: list[SuggestionOut] = Field(description="建议，最相关的在前")


def _absolute(request: HttpRequest, url: str) -> str:
    return request.build_absolute_uri(url) if url else ""


def _hit(request: HttpRequest, hit: Hit) -> dict:
    return {
        "doc_id": hit.doc_id,
        "kind": hit.kind,
        "kind_label": hit.kind_label,
        "title": hit.title,
        "title_html": str(hit.title_html or ""),
        "snippet_html": str(hit.snippet or ""),
        "url": _absolute(request, hit.url),
        "date": hit.date,
        "score": hit.score,
        "promoted": hit.promoted,
    }


def _results(request: HttpRequest, results: SearchResults) -> dict:
    facets = {
        name: [{"value": v.value, "label": v.label or v.value, "count": v.count} for v in results.facets.get(name, [])]
        for name in FACET_DIMENSIONS
    }
    return {
        "query": results.query,
        "total": results.total,
        "page": results.page,
        "per_page": results.per_page,
        "num_pages": last_page(results),
        "hits": [_hit(request, hit) for hit in results.hits],
        "promoted": [_hit(request, hit) for hit in results.promoted],
        "facets": facets,
        "did_you_mean": results.did_you_mean,
        "corrected_from": results.corrected_from,
        "degraded": results.degraded,
        "notice": results.notice,
    }


def _unavailable():
    return Status(503, {"detail": _("搜索服务暂时不可用，请稍后再试")})


@router.get(
    "/",
    response={200: SearchOut, **ERRORS},
    auth=PUBLIC_AUTH,
    openapi_extra=PUBLIC_OPENAPI,
    url_name="search_results",
    summary="搜索全站内容（图书、音视频、文章、课程等），带筛选项和摘要",
)
def search_results(
    request: HttpRequest,
    response: HttpResponse,  # django-ninja's response, sent as the answer (counted once it is sent)
    q: str = Query("", max_length=MAX_QUERY_INPUT, pattern=NO_NUL, description="搜索词：汉字、拼音或字母数字"),
    kind: str | None = Query(None, max_length=32, pattern=NO_NUL, description="只看这一类型（见 facets.kind）"),
    subject: str | None = Query(None, max_length=100, pattern=NO_NUL, description="只看这一主题"),
    year: int | None = Query(None, ge=0, le=9999, description="只看这一年（见 facets.year）"),
    owner: int | None = Query(
        None, ge=1, le=2**63 - 1, description="只看这个单位自己的内容（单位 id，见 facets.unit）"
    ),
    unit: int | None = Query(None, ge=1, le=2**63 - 1, description="只看这个单位及其下级单位的内容（单位 id）"),
    access: Literal["public", "members", "unit"] | None = Query(None, description="只看这一访问范围"),
    sort: Literal["relevance", "newest"] = Query("relevance", description="relevance 最相关；newest 最新"),
    page: int = Query(1, ge=1, le=MAX_PAGE, description="页码"),
    per_page: int = Query(20, ge=1, le=50, description="每页条数"),
    facets: bool = Query(True, description="是否同时返回筛选项计数"),
    exact: bool = Query(False, description="true：原词没有结果时不自动改搜建议词（只在 did_you_mean 里给出）"),
    refine: bool = Query(
        False, description="true：同一次搜索的翻页、筛选或换排序（不再计入搜索统计）；用户新输入的搜索词用 false"
    ),
):
    subtree = unit_path(unit)
    if unit and subtree is None:
        raise ValidationError(_("请求参数有误：unit 没有这个单位"))
    filters = {"kind": kind, "subject": subject, "year": year, "unit_path": subtree, "unit_id": owner, "access": access}
    try:
        results = search(
            query=q,
            user=api_user(request),
            page=page,
            per_page=per_page,
            sort=sort,
            facets=facets,
            exact=exact,
            **filters,
        )
    except SearchError:
        return _unavailable()
    record_search(response, query=q, results=results, page=page, refining=refine)
    return Status(200, _results(request, results))


@router.get(
    "/suggest",
    response={200: SuggestOut, **ERRORS},
    auth=PUBLIC_AUTH,
    openapi_extra=PUBLIC_OPENAPI,
    url_name="search_suggest",
    summary="输入时的搜索建议（汉字或拼音开头），只含当前用户能打开的内容",
)
def search_suggest(
    request: HttpRequest,
    q: str = Query("", max_length=100, pattern=NO_NUL, description="已输入的文字或拼音"),
    limit: int = Query(SUGGESTION_LIMIT, ge=1, le=20, description="最多几条"),
):
    try:
        found = suggestions(prefix=q, user=api_user(request), limit=limit)
    except SearchError:
        return _unavailable()
    rows = [{"text": suggestion.text, "url": _absolute(request, suggestion.url)} for suggestion in found]
    return Status(200, {"query": q, "suggestions": rows})
