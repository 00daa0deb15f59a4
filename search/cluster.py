"""Elasticsearch and OpenSearch engines: the same bodies (bodies.py), each sent through its own client.

Searches go to an alias so a full rebuild can fill a fresh index and swap it in without downtime. Writes carry
external versions, so a slow worker or a rebuild never overwrites newer data, and during a rebuild they also go
to the index being built (alias `{alias}-building`), so nothing changed meanwhile is lost.
"""

import logging
import re
import time
from datetime import UTC, datetime

from django.utils.html import escape
from django.utils.safestring import mark_safe

from search import bodies
from search.analysis import ParsedQuery
from search.registry import SearchDocument
from search.results import (
    Audience,
    FacetValue,
    Hit,
    SearchError,
    SearchRequest,
    SearchResults,
    SearchUnavailable,
    Suggestion,
)

logger = logging.getLogger(__name__)
# Short: when the engine is down the site answers from the embedded index instead of waiting.
REQUEST_TIMEOUT = 5
# Index management and bulk writes run in workers, not in front of a member: a busy node may take longer to
# create an index or allocate its shards, and failing them early only costs a retry.
ADMIN_TIMEOUT = 60
MAX_RESULT_WINDOW = bodies.MAX_RESULT_WINDOW
SNIPPET_CHARS = bodies.FRAGMENT_CHARS
# The engines cut fragments at sentence ends; a text without punctuation would come back whole, so longer
# fragments are clipped to this many characters around the first match.
MAX_SNIPPET_CHARS = 160
# One piece of a highlighted fragment: a mark tag, an HTML entity (one visible character), or a character.
_PIECE = re.compile(r"</?mark>|&#?\w+;|.", re.S)
_TAGS = ("<mark>", "</mark>")


def split_nodes(url: str) -> list[str]:
    """SEARCH_URL as a list of nodes ("http://a:9200,http://b:9200")."""
    return [node.strip() for node in (url or "").split(",") if node.strip()]


def _ignorable(error: dict) -> bool:
    """A bulk item error that means success: a newer version is already stored (409), or deleting what is
    already gone (404)."""
    op, result = next(iter(error.items()))
    return result.get("status") == 409 or (op == "delete" and result.get("status") == 404)


class ClusterEngine:
    """Everything but the client: subclasses supply `_make_client`, `_bulk` and their exception types."""

    name = "cluster"
    unavailable_errors: tuple[type[Exception], ...] = ()
    engine_errors: tuple[type[Exception], ...] = ()

    def __init__(self, *, url: str, prefix: str, shards: int = 1, replicas: int = 1):
        self.nodes = split_nodes(url)
        self.alias = f"{prefix}-documents"
        self.building_alias = f"{self.alias}-building"
        self.shards, self.replicas = shards, replicas
        self._client = None
        self._admin = None
        self._index_checked = False

    @property
    def max_retries(self) -> int:
        # A failed node is retried on each of the others (connection errors are refused at once, so a cluster
        # with every node down still fails fast).
        return max(len(self.nodes) - 1, 0)

    @property
    def client(self):
        """For member-facing reads: gives up after REQUEST_TIMEOUT per node."""
        if self._client is None:
            self._client = self._make_client(timeout=REQUEST_TIMEOUT)
        return self._client

    @property
    def admin(self):
        """For index management and bulk writes in workers: ADMIN_TIMEOUT."""
        if self._admin is None:
            self._admin = self._make_client(timeout=ADMIN_TIMEOUT)
        return self._admin

    def _call(self, function, *args, **kwargs):
        """Run one client call; every failure becomes a SearchError (never shown to users as is)."""
        try:
            return function(*args, **kwargs)
        except self.unavailable_errors as exc:
            raise SearchUnavailable(f"{self.name}: {exc}") from exc
        except self.engine_errors as exc:
            raise SearchError(f"{self.name}: {exc}") from exc

    # --- Index management

    def ping(self) -> None:
        self._call(self.client.info)

    def new_index_name(self) -> str:
        return f"{self.alias}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"

    def _create(self, *, aliases: list[str]) -> str:
        name = self.new_index_name()
        body = bodies.index_body(name, aliases=aliases, shards=self.shards, replicas=self.replicas)
        self._call(self.admin.indices.create, index=name, body=body)
        return name

    def _behind(self, alias: str) -> list[str]:
        if not self._call(self.admin.indices.exists_alias, name=alias):
            return []
        return sorted(self._call(self.admin.indices.get_alias, name=alias))

    def indices_behind_alias(self) -> list[str]:
        return self._behind(self.alias)

    def ensure_index(self) -> None:
        if self._index_checked:
            return
        if not self._call(self.admin.indices.exists_alias, name=self.alias):
            self._create(aliases=[self.alias])
        self._index_checked = True

    def create_index(self) -> str:
        """A fresh index for a rebuild, behind the `-building` alias so writes meanwhile also reach it.

        The indices of an abandoned rebuild (behind `-building` but not live) are dropped first.
        """
        live = set(self.indices_behind_alias())
        for stale in self._behind(self.building_alias):
            if stale in live:
                self._call(self.admin.indices.delete_alias, index=stale, name=self.building_alias)
            else:
                self._call(self.admin.indices.delete, index=stale)
        return self._create(aliases=[self.building_alias])

    def switch_alias(self, index: str) -> None:
        """Point the alias at `index` in one atomic step, drop `-building`, then delete the old indices."""
        old = [name for name in self.indices_behind_alias() if name != index]
        actions = [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"add": {"index": index, "alias": self.alias}})
        building = self._behind(self.building_alias)
        actions.extend({"remove": {"index": name, "alias": self.building_alias}} for name in building)
        self._call(self.admin.indices.update_aliases, body={"actions": actions})
        for name in dict.fromkeys([*old, *building]):
            if name != index:
                self._call(self.admin.indices.delete, index=name, ignore_unavailable=True)
        self._index_checked = True

    def refresh(self) -> None:
        self._call(self.admin.indices.refresh, index=self.alias)
        if self._behind(self.building_alias):
            self._call(self.admin.indices.refresh, index=self.building_alias)

    def count(self) -> int:
        return self._call(self.client.count, index=self.alias)["count"]

    # --- Writes

    def _write_targets(self, index: str | None) -> list[str]:
        # A rebuild writes to its new index only; every other write also reaches an index being built.
        if index:
            return [index]
        return [self.alias, self.building_alias] if self._behind(self.building_alias) else [self.alias]

    def index(self, documents: list[SearchDocument], *, version: int | None = None, index: str | None = None) -> None:
        """Index `documents`; `version` (ns since the epoch, taken before they were read) keeps older data from
        overwriting newer (a lower version is ignored)."""
        if not documents:
            return
        version = version or time.time_ns()
        sources = [(document.doc_id, bodies.document_source(document)) for document in documents]
        for target in self._write_targets(index):
            actions = [
                {"_op_type": "index", "_index": target, "_id": doc_id, "_source": source} | _versioned(version)
                for doc_id, source in sources
            ]
            self._send(actions, require_alias=index is None)

    def delete(self, doc_ids: list[str], *, version: int | None = None) -> None:
        """Delete `doc_ids`, leaving a versioned tombstone (a stale write cannot bring them back)."""
        if not doc_ids:
            return
        version = version or time.time_ns()
        for target in self._write_targets(None):
            actions = [
                {"_op_type": "delete", "_index": target, "_id": doc_id} | _versioned(version) for doc_id in doc_ids
            ]
            self._send(actions, require_alias=True)

    def _send(self, actions: list[dict], *, require_alias: bool) -> None:
        # require_alias: a write never creates a stray index with guessed mappings when the alias is gone.
        try:
            _, errors = self._call(self._bulk, actions, require_alias=require_alias)
        except SearchError:
            # The index may have been dropped meanwhile: check (and recreate) it on the next try.
            self._index_checked = False
            raise
        errors = [error for error in errors if not _ignorable(error)]
        if errors:
            self._index_checked = False
            raise SearchError(f"{self.name}: {len(errors)} bulk errors, first: {errors[0]}")

    # --- Reads

    def search(self, parsed: ParsedQuery, request: SearchRequest) -> SearchResults:
        results = SearchResults(
            hits=[], total=0, page=request.page, per_page=request.per_page, query=parsed.text, backend=self.name
        )
        body = bodies.search_body(parsed, request)
        if body is None:
            return results
        response = self._call(self.client.search, index=self.alias, body=body)
        results.total = response["hits"]["total"]["value"]
        results.hits = [_hit(raw) for raw in response["hits"]["hits"]]
        if request.facets:
            results.facets = _facets(response.get("aggregations", {}))
        return results

    def suggest(self, parsed: ParsedQuery, audience: Audience, *, limit: int) -> list[Suggestion]:
        body = bodies.suggest_body(parsed, audience, limit=limit)
        if body is None:
            return []
        response = self._call(self.client.search, index=self.alias, body=body)
        return [Suggestion(text=raw["_source"]["title"], url=raw["_source"].get("url", "")) for raw in _rows(response)]

    def pinyin_titles(self, pinyin: str, audience: Audience, *, limit: int) -> list[str]:
        body = bodies.pinyin_titles_body(pinyin, audience, limit=limit)
        if body is None:
            return []
        response = self._call(self.client.search, index=self.alias, body=body)
        titles = [raw["_source"]["title"] for raw in _rows(response)]
        # Best first, short titles first: a short title is closest to what the member typed.
        return sorted(titles, key=len)


def _versioned(version: int) -> dict:
    return {"version": version, "version_type": "external_gte"}


def _rows(response: dict) -> list[dict]:
    return response["hits"]["hits"]


def _facets(aggregations: dict) -> dict[str, list[FacetValue]]:
    facets = {}
    for dimension in bodies.FACET_FIELDS:
        buckets = aggregations.get(dimension, {}).get("buckets", [])
        values = [FacetValue(value=str(b["key"]), count=b["doc_count"]) for b in buckets if str(b["key"]) != ""]
        facets[dimension] = sorted(values, key=lambda value: -value.count)
    return facets


def _first_fragment(highlight: dict, *names: str) -> str | None:
    """The first fragment with a match among `names` (a bigram field may answer with an unmarked start of
    text where the unigram field marked a lone character), else the first fragment at all."""
    fragments = [highlight[name][0] for name in names if highlight.get(name)]
    return next((fragment for fragment in fragments if "<mark>" in fragment), fragments[0] if fragments else None)


def clip_fragment(fragment: str, width: int = MAX_SNIPPET_CHARS) -> str:
    """A highlighted fragment cut to `width` visible characters around its first <mark>, tags balanced."""
    pieces = _PIECE.findall(fragment)
    visible = [position for position, piece in enumerate(pieces) if piece not in _TAGS]
    if len(visible) <= width:
        return fragment
    first_mark = pieces.index("<mark>") if "<mark>" in pieces else 0
    before = sum(1 for position in visible if position < first_mark)
    start = max(0, min(before - width // 4, len(visible) - width))
    low, high = visible[start], visible[start + width - 1] + 1
    tags_before = [piece for piece in pieces[:low] if piece in _TAGS]
    opened = bool(tags_before) and tags_before[-1] == "<mark>"
    body = ("<mark>" if opened else "") + "".join(pieces[low:high])
    if body.count("<mark>") > body.count("</mark>"):
        body += "</mark>"
    return ("…" if start else "") + body + ("…" if start + width < len(visible) else "")


def _snippet(source: dict, highlight: dict) -> str:
    # The engine escaped the text itself (encoder "html") and added only our <mark> tags.
    fragment = _first_fragment(highlight, "body", "body.uni", "subtitle", "subtitle.uni")
    if fragment is not None:
        return clip_fragment(fragment)
    return str(escape(" ".join(source.get("subtitle", "").split())[:SNIPPET_CHARS]))


def _hit(raw: dict) -> Hit:
    source, highlight = raw["_source"], raw.get("highlight", {})
    date = datetime.fromisoformat(source["date"]) if source.get("date") else None
    title_html = _first_fragment(highlight, "title", "title.uni") or escape(source["title"])
    return Hit(
        doc_id=raw["_id"],
        kind=source["kind"],
        title=source["title"],
        url=source.get("url", ""),
        snippet=mark_safe(_snippet(source, highlight)),
        score=raw.get("_score") or 0.0,
        date=date,
        title_html=mark_safe(title_html),
    )


class OpenSearchEngine(ClusterEngine):
    name = "opensearch"

    def __init__(self, **kwargs):
        import opensearchpy

        super().__init__(**kwargs)
        self.unavailable_errors = (opensearchpy.ConnectionError, opensearchpy.ConnectionTimeout)
        self.engine_errors = (opensearchpy.OpenSearchException,)

    def _make_client(self, *, timeout: float):
        from opensearchpy import OpenSearch

        return OpenSearch(hosts=self.nodes, timeout=timeout, max_retries=self.max_retries, retry_on_timeout=True)

    def _bulk(self, actions, **params):
        from opensearchpy import helpers

        return helpers.bulk(self.admin, actions, raise_on_error=False, raise_on_exception=True, **params)


class ElasticsearchEngine(ClusterEngine):
    name = "elasticsearch"

    def __init__(self, **kwargs):
        import elastic_transport
        import elasticsearch

        super().__init__(**kwargs)
        self.unavailable_errors = (elasticsearch.ConnectionError, elasticsearch.ConnectionTimeout)
        self.engine_errors = (elasticsearch.ApiError, elastic_transport.TransportError)

    def _make_client(self, *, timeout: float):
        from elasticsearch import Elasticsearch

        return Elasticsearch(self.nodes, request_timeout=timeout, max_retries=self.max_retries, retry_on_timeout=True)

    def _bulk(self, actions, **params):
        from elasticsearch import helpers

        return helpers.bulk(self.admin, actions, raise_on_error=False, raise_on_exception=True, **params)
