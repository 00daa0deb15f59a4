"""The site search's Elasticsearch and OpenSearch engines: the same bodies (bodies.py), each sent through its own
client. (The Wagtail admin's search on the same cluster is search.admin_backends.engine.)

Searches go to an alias so a full rebuild can fill a fresh index and swap it in without downtime. Writes carry
external versions, so a slow worker or a rebuild never overwrites newer data, and during a rebuild they also go
to the index being built (alias `{alias}-building`), so nothing changed meanwhile is lost.
"""

import logging
import re
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

import orjson
from django.utils.html import escape
from django.utils.safestring import mark_safe

from search.engines import bodies
from search.engines.analysis import ParsedQuery
from search.engines.results import (
    Audience,
    FacetValue,
    Hit,
    SearchError,
    SearchRequest,
    SearchResults,
    SearchUnavailable,
    Suggestion,
)
from search.registry import SearchDocument

logger = logging.getLogger(__name__)
# Connections kept open to each node (bulk threads, threaded web workers).
POOL_SIZE = 10
# Short: when the engine is down the site answers from the embedded index instead of waiting.
REQUEST_TIMEOUT = 5
# Shorter still for what is asked on every keystroke (suggestions) and for corrections: a hung engine must not
# hold up typing; the embedded index answers instead.
SUGGEST_TIMEOUT = 1
# Index management and bulk writes run in workers, not in front of a member: a busy node may take longer to
# create an index or allocate its shards, and failing them early only costs a retry.
ADMIN_TIMEOUT = 60
# Bulk writes keep BULK_THREADS requests of BULK_CHUNK documents in flight: the next documents are analysed and
# serialized here while the node indexes the previous ones (a rebuild's chunk of 500 goes as two requests). A request
# stays under BULK_BYTES too (an e-book's full text can be 600 KB; the nodes refuse bodies over 100 MB by default).
BULK_THREADS = 2
BULK_CHUNK = 250
BULK_BYTES = 10 * 1024 * 1024
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


def _succeeded(item: dict) -> bool:
    """Whether one item of a _bulk answer ({op: result}) was written (2xx), as the clients' bulk helpers judge it."""
    return 200 <= next(iter(item.values())).get("status", 500) < 300


def _ignorable(error: dict) -> bool:
    """A bulk item error that means success: a newer version is already stored (409), or deleting what is
    already gone (404)."""
    op, result = next(iter(error.items()))
    return result.get("status") == 409 or (op == "delete" and result.get("status") == 404)


class ClusterEngine:
    """Everything but the client: subclasses supply `_make_client`, `_bulk`, `_bulk_body`, `_search` (with a
    per-call timeout) and their exception types."""

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
        # Set once the live alias has been seen (or made) by this process: after that, a missing alias is an
        # accident to repair with search_rebuild, never a first start.
        self._alias_seen = False

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

    def _create(self, *, aliases: list[str], building: bool = False) -> str:
        name = self.new_index_name()
        body = bodies.index_body(name, aliases=aliases, shards=self.shards, replicas=self.replicas, building=building)
        self._call(self.admin.indices.create, index=name, body=body)
        return name

    def _behind(self, alias: str) -> list[str]:
        if not self._call(self.admin.indices.exists_alias, name=alias):
            return []
        return sorted(self._call(self.admin.indices.get_alias, name=alias))

    def indices_behind_alias(self) -> list[str]:
        return self._behind(self.alias)

    def _ours_exist(self) -> bool:
        """Whether any index of ours exists (live, being built, or left behind)."""
        pattern = f"{self.alias}-*"
        return self._call(self.admin.indices.exists, index=pattern, allow_no_indices=False, expand_wildcards="all")

    def ensure_index(self) -> None:
        """Make sure the live alias exists; create the first index only on a first start (no index of ours at all).

        A missing alias anywhere else (dropped after a bulk error, an operator's mistake) raises SearchError: an
        empty new index behind the alias would answer every search from almost nothing, while an error makes the
        selectors answer from the embedded index and the outbox keep its entries until `search_rebuild` runs.
        """
        if self._index_checked:
            return
        if self._call(self.admin.indices.exists_alias, name=self.alias):
            self._index_checked = self._alias_seen = True
            return
        if self._alias_seen or self._ours_exist():
            logger.error(
                "search: the alias %s is missing (it existed, or indices of ours still do); searches use the embedded "
                "index and changes wait in the outbox until `manage.py search_rebuild` runs",
                self.alias,
            )
            raise SearchError(f"{self.name}: the alias {self.alias} is missing; run search_rebuild")
        self._create(aliases=[self.alias])
        self._index_checked = self._alias_seen = True

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
        return self._create(aliases=[self.building_alias], building=True)

    def switch_alias(self, index: str) -> None:
        """Give `index` its replicas and refreshes back and make what it holds searchable, point the alias at it in
        one atomic step, drop `-building`, then delete the old indices."""
        self._call(self.admin.indices.put_settings, index=index, body=bodies.built_settings(replicas=self.replicas))
        self._call(self.admin.indices.refresh, index=index)
        old = [name for name in self.indices_behind_alias() if name != index]
        actions = [{"remove": {"index": name, "alias": self.alias}} for name in old]
        actions.append({"add": {"index": index, "alias": self.alias}})
        building = self._behind(self.building_alias)
        actions.extend({"remove": {"index": name, "alias": self.building_alias}} for name in building)
        self._call(self.admin.indices.update_aliases, body={"actions": actions})
        for name in dict.fromkeys([*old, *building]):
            if name != index:
                self._call(self.admin.indices.delete, index=name, ignore_unavailable=True)
        self._index_checked = self._alias_seen = True

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
        # One target (the usual case): each document is analysed as the bulk helper asks for it, overlapping the
        # sending of the ones before; two (during a rebuild) share one analysis.
        sources = document_sources(documents)
        version = version or time.time_ns()
        targets = self._write_targets(index)
        if len(targets) > 1:
            sources = list(sources)
        for target in targets:
            actions = (
                {"_op_type": "index", "_index": target, "_id": doc_id, "_source": source} | _versioned(version)
                for doc_id, source in sources
            )
            self._send(actions, require_alias=index is None)

    def index_bodies(self, bodies: list[bytes], *, index: str) -> None:
        """Send `bulk_bodies` to `index` (a rebuild's new index), one request each; item errors raise as in `index`."""
        for body in bodies:
            try:
                response = self._call(self._bulk_body, body, index=index)
            except SearchError:
                self._index_checked = False
                raise
            self._raise_item_errors([item for item in response["items"] if not _succeeded(item)])

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
            # The index may have been dropped meanwhile: check it again on the next try (see ensure_index).
            self._index_checked = False
            raise
        self._raise_item_errors(errors)

    def _raise_item_errors(self, errors: list[dict]) -> None:
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
        """Titles matching what is typed so far (see bodies.suggest_body); gives up after SUGGEST_TIMEOUT."""
        body = bodies.suggest_body(parsed, audience, limit=limit)
        if body is None:
            return []
        response = self._call(self._search, body, timeout=SUGGEST_TIMEOUT)
        return [Suggestion(text=raw["_source"]["title"], url=raw["_source"].get("url", "")) for raw in _rows(response)]

    def pinyin_titles(self, pinyin: str, audience: Audience, *, limit: int) -> list[str]:
        """For "did you mean": "title creators" of each visible document whose pinyin terms (of title and
        creators) start with `pinyin`, short titles first; gives up after SUGGEST_TIMEOUT."""
        body = bodies.pinyin_titles_body(pinyin, audience, limit=limit)
        if body is None:
            return []
        response = self._call(self._search, body, timeout=SUGGEST_TIMEOUT)
        sources = sorted((raw["_source"] for raw in _rows(response)), key=lambda source: len(source["title"]))
        # Short titles first: a short title is closest to what the member typed.
        return [f"{source['title']} {source.get('creators') or ''}".strip() for source in sources]


def document_sources(documents: Iterable[SearchDocument]) -> Iterator[tuple[str, dict]]:
    """(doc_id, what the engine stores) of each document: our analysis (words, pinyin), done as it is asked for."""
    return ((document.doc_id, bodies.document_source(document)) for document in documents)


def bulk_bodies(sources: Iterable[tuple[str, dict]], *, version: int) -> list[bytes]:
    """The NDJSON bodies of the _bulk requests that index analysed documents (`document_sources`) with `version` into
    the index their URL names (`index_bodies`): at most BULK_CHUNK documents and about BULK_BYTES each (a document
    longer than that goes alone), as the clients' bulk helpers cut them. A rebuild makes them in its reading
    processes, beside the analysis: the process that sends them forwards bytes instead of unpickling and serializing
    dicts. orjson (UTF-8, compact, as the clients write it) takes a tenth of json's share of a reading process."""
    bodies, lines, size = [], [], 0
    for doc_id, source in sources:
        action = orjson.dumps({"index": {"_id": doc_id} | _versioned(version)})
        document = b"%b\n%b\n" % (action, orjson.dumps(source))
        if lines and (len(lines) == BULK_CHUNK or size + len(document) > BULK_BYTES):
            bodies.append(b"".join(lines))
            lines, size = [], 0
        lines.append(document)
        size += len(document)
    return [*bodies, b"".join(lines)] if lines else bodies


def _parallel_bulk(helpers, client, actions, **params) -> tuple[int, list[dict]]:
    """helpers.parallel_bulk (both clients have it) answered like helpers.bulk: (documents taken, item errors)."""
    taken, errors = 0, []
    results = helpers.parallel_bulk(
        client,
        actions,
        thread_count=BULK_THREADS,
        chunk_size=BULK_CHUNK,
        max_chunk_bytes=BULK_BYTES,
        raise_on_error=False,
        raise_on_exception=True,
        **params,
    )
    for ok, item in results:
        taken += ok
        if not ok:
            errors.append(item)
    return taken, errors


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
    label = "OpenSearch"  # as editors read it on the search status screen

    def __init__(self, **kwargs):
        import opensearchpy

        super().__init__(**kwargs)
        self.unavailable_errors = (opensearchpy.ConnectionError, opensearchpy.ConnectionTimeout)
        self.engine_errors = (opensearchpy.OpenSearchException,)

    def _make_client(self, *, timeout: float):
        from opensearchpy import OpenSearch

        # urllib3 keeps one connection per node unless told otherwise: bulk threads and threaded web workers
        # would then open (and drop) a connection per request.
        return OpenSearch(
            hosts=self.nodes,
            timeout=timeout,
            max_retries=self.max_retries,
            retry_on_timeout=True,
            pool_maxsize=POOL_SIZE,
        )

    def _bulk(self, actions, **params):
        from opensearchpy import helpers

        return _parallel_bulk(helpers, self.admin, actions, **params)

    def _bulk_body(self, body: bytes, *, index: str) -> dict:
        return self.admin.bulk(body=body, index=index)

    def _search(self, body: dict, *, timeout: float):
        return self.client.search(index=self.alias, body=body, request_timeout=timeout)


class ElasticsearchEngine(ClusterEngine):
    name = "elasticsearch"
    label = "Elasticsearch"

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

        return _parallel_bulk(helpers, self.admin, actions, **params)

    def _bulk_body(self, body: bytes, *, index: str) -> dict:
        return self.admin.bulk(operations=body, index=index).body

    def _search(self, body: dict, *, timeout: float):
        return self.client.options(request_timeout=timeout).search(index=self.alias, body=body)
