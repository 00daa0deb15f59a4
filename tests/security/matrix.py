"""The permission matrix of issue 11: who (roles), what (library objects at every access setting, with their
stored files) and the one oracle that says who may see, download or manage each object.

Roles and settings are enumerated from the code's own lists (``cms.services.ROLES_BY_LEVEL``,
``LibraryItem.Access`` / ``Download``), so a new role or setting joins the matrix by itself. The oracle restates
the rule of docs/library.md in plain Python over the tree this module builds — it never asks the selectors it
checks. tests/security/test_matrix.py sends the requests.
"""

import csv
import json
import tempfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from wagtail.models import Site

from cms.models import LighthouseDocument, LighthouseImage, OrgUnit, UnitRole
from cms.services import ROLES_BY_LEVEL, member_create, org_unit_create, org_unit_ensure_roles
from library.models import ArticleArea, IssuePage, LibraryItem, LibraryPage
from media_pipeline.models import MediaAsset, Rendition, TranscodeJob
from tests.proof import COUNTS  # noqa: F401 — the tests import it from here

TITLE_WORD = "灯塔矩阵"  # in every object's title: one search finds them all
PASSWORD = "pw-123456"
Access, Download = LibraryItem.Access, LibraryItem.Download

# --- The organisation: (code, level, parent code). Unit A is 邹平 (county) in 滨州 (city) in the province. ------
TREE = [
    ("mx-sd", OrgUnit.Level.PROVINCE, None),
    ("mx-bz", OrgUnit.Level.CITY, "mx-sd"),
    ("mx-zp", OrgUnit.Level.COUNTY, "mx-bz"),
    ("mx-zp-town", OrgUnit.Level.TOWNSHIP, "mx-zp"),
    ("mx-zp-branch", OrgUnit.Level.BRANCH, "mx-zp-town"),
    ("mx-ly", OrgUnit.Level.CITY, "mx-sd"),
    ("mx-yn", OrgUnit.Level.COUNTY, "mx-ly"),
    ("mx-yn-branch", OrgUnit.Level.BRANCH, "mx-yn"),
]
PARENT = {code: parent for code, _level, parent in TREE}
LEVEL_UNIT = {"province": "mx-sd", "city": "mx-bz", "county": "mx-zp", "branch": "mx-zp-branch"}
OWNER = "mx-zp"  # every object belongs to unit A, and "unit" access opens it to unit A and below
OTHER_CITY = "mx-ly"


def ancestors(code: str | None) -> set[str]:
    """A unit and every unit above it."""
    found = set()
    while code:
        found.add(code)
        code = PARENT[code]
    return found


@dataclass
class Principal:
    """One role of the matrix. ``manages`` are the units whose subtrees its roles let it edit."""

    key: str
    unit: str | None = None
    roles: tuple[str, ...] = ()
    superuser: bool = False
    user: object = None

    @property
    def authenticated(self) -> bool:
        return self.key != "anonymous"

    @property
    def manages(self) -> set[str]:
        managing = {UnitRole.Role.EDITOR, UnitRole.Role.ADMINISTRATOR}
        return {self.unit} if self.unit and managing & set(self.roles) else set()


def principals() -> list[Principal]:
    """anonymous, members of unit A's branch and of another unit, every role the code grants at each level
    (branch: secretary; province/city/county: editor, administrator), an editor of another city, superuser."""
    found = [
        Principal("anonymous"),
        Principal("member", unit=LEVEL_UNIT["branch"]),
        Principal("member-other-unit", unit="mx-yn-branch"),
    ]
    for level, unit in LEVEL_UNIT.items():
        for role in ROLES_BY_LEVEL[level]:
            found.append(Principal(f"{role}@{level}", unit=unit, roles=(role,)))
    found.append(Principal("editor@other-city", unit=OTHER_CITY, roles=(UnitRole.Role.EDITOR,)))
    found.append(Principal("superuser", superuser=True))
    return found


# --- Objects -------------------------------------------------------------------------------------------------


@dataclass
class Obj:
    """A library item under test, the chain of items that hold it (itself first) and its stored files."""

    key: str
    token: str
    item: LibraryItem
    chain: list[LibraryItem]
    state: str  # "open", "unpublished", "withdrawn", "closed-parent:<how>"
    files: dict[str, str] = field(default_factory=dict)  # label → storage name (protected or not)
    public_files: dict[str, str] = field(default_factory=dict)  # label → /media/ name of Wagtail documents/images
    hls: Rendition | None = None
    asset: MediaAsset | None = None
    job: TranscodeJob | None = None
    document: LighthouseDocument | None = None
    children: list["Obj"] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.item.kind

    @property
    def is_document(self) -> bool:
        return self.asset is not None and self.asset.kind == MediaAsset.Kind.DOCUMENT


def _open(principal: Principal, item: LibraryItem) -> bool:
    """One row's own rule: published, and public / any signed-in member / the unit opened it and below."""
    if not item.is_published:
        return False
    if item.access == Access.PUBLIC:
        return True
    if not principal.authenticated:
        return False
    if item.access == Access.MEMBERS:
        return True
    unit_code = OrgUnit.objects.values_list("code", flat=True).get(pk=item.access_unit_id)
    return principal.superuser or unit_code in ancestors(principal.unit)


# The oracle. --------------------------------------------------------------------------------------------------


def may_read(principal: Principal, obj: Obj) -> bool:
    """docs/library.md: an item opens when it and everything holding it are published and open to the user."""
    return all(_open(principal, item) for item in obj.chain)


def may_download(principal: Principal, obj: Obj) -> bool:
    """Download is its own right, never more than reading: none / readers / signed-in members."""
    if obj.state == "withdrawn" or obj.item.download == Download.NONE or not may_read(principal, obj):
        return False
    return obj.item.download == Download.READERS or principal.authenticated


def may_manage(principal: Principal, obj: Obj) -> bool:
    """Editors and administrators manage items owned in their subtrees; superusers everything."""
    return principal.superuser or bool(principal.manages & ancestors(OWNER))


def may_fetch_file(principal: Principal, obj: Obj) -> bool:
    """The whole stored file (master, Wagtail document): who may download, or an editor checking their item."""
    return may_download(principal, obj) or may_manage(principal, obj)


def public_stable_url_allowed(obj: Obj) -> bool:
    """A stored file at a stable, unsigned URL: only what anyone may download (issue 11, item 2)."""
    return may_download(Principal("anonymous"), obj)


# --- Building the world ----------------------------------------------------------------------------------------


def _store(name: str, data: bytes) -> str:
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(data))


def _jpeg(token: str) -> bytes:
    out = BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "JPEG", comment=token.encode())
    return out.getvalue()


class Builder:
    """Creates units, principals, the library page and every object; returns them for the test."""

    def __init__(self, media_root: Path):
        self.media_root = media_root
        self.units: dict[str, OrgUnit] = {}
        self.objects: list[Obj] = []
        self.number = 0

    def build(self) -> dict:
        for code, level, parent in TREE:
            self.units[code] = org_unit_create(parent=self.units.get(parent), name=code, code=code, level=level)
            org_unit_ensure_roles(unit=self.units[code])
        people = principals()
        for principal in people:
            if principal.authenticated:
                principal.user = member_create(
                    username=principal.key,
                    password=PASSWORD,
                    real_name=principal.key,
                    org_unit=self.units.get(principal.unit),
                    roles=principal.roles,
                    is_superuser=principal.superuser,
                )
        root = Site.objects.get(is_default_site=True).root_page
        if not LibraryPage.objects.exists():
            root.add_child(instance=LibraryPage(title="数字图书馆", slug="library"))
        self._settings_objects()
        self._closed_parent_objects()
        return {"principals": people, "objects": self.objects, "units": self.units}

    # Every access × download setting, then unpublished and withdrawn, for every kind that has files.
    def _settings_objects(self) -> None:
        states = [(access, download, "open") for access in Access.values for download in Download.values]
        states += [(Access.PUBLIC, Download.READERS, "unpublished"), (Access.PUBLIC, Download.READERS, "withdrawn")]
        titles = {kind: self._item(kind, "series", "刊名") for kind in ("periodical", "newspaper")}
        for kind in ("video", "audio", "ebook-pdf", "ebook-epub", "periodical", "newspaper"):
            for access, download, state in states:
                parent = titles.get(kind)
                obj = self._with_files(kind, access=access, download=download, state=state, parent=parent)
                self.objects += [obj, *obj.children]

    def _closed_parent_objects(self) -> None:
        """Children (open themselves) of a parent closed each way: members, unit, unpublished."""
        closings = {
            "members": {"access": Access.MEMBERS},
            "unit": {"access": Access.UNIT},
            "unpublished": {"is_published": False},
        }
        for how, fields in closings.items():
            for kind, role in (("video", "episode"), ("audio", "episode"), ("periodical", "issue")):
                parent = self._item(kind, "series", f"系列{how}", **fields)
                obj = self._with_files(
                    kind,
                    access=Access.PUBLIC,
                    download=Download.READERS,
                    state=f"closed-parent:{how}",
                    parent=parent,
                    role=role,
                )
                self.objects += [obj, *obj.children]
            # A newspaper issue closed: its article (public) is a child of a closed parent.
            title = self._item("newspaper", "series", "报名")
            issue = self._with_files(
                "newspaper",
                access=fields.get("access", Access.PUBLIC),
                download=Download.READERS,
                state="open",
                parent=title,
                published=fields.get("is_published", True),
            )
            issue.children[0].state = f"closed-parent:{how}"
            self.objects += [issue, *issue.children]

    def _token(self) -> str:
        self.number += 1
        return f"mx{self.number:03d}q"

    def _item(self, kind: str, role: str, label: str, parent=None, **fields) -> LibraryItem:
        token = self._token()
        fields.setdefault("access_unit", self.units[OWNER] if fields.get("access") == Access.UNIT else None)
        return LibraryItem.objects.create(
            kind=kind.split("-")[0],
            role=role,
            title=f"{TITLE_WORD} {label} {token}",
            owning_unit=self.units[OWNER],
            parent=parent,
            **fields,
        )

    def _with_files(self, kind, *, access, download, state, parent=None, role=None, published=True) -> Obj:
        token = self._token()
        base_kind = kind.split("-")[0]
        role = role or ("issue" if parent is not None else "item")
        label = f"{kind} {access}/{download} {state}"
        item = LibraryItem.objects.create(
            kind=base_kind,
            role=role,
            parent=parent,
            title=f"{TITLE_WORD} {label} {token}",
            owning_unit=self.units[OWNER],
            access=access,
            download=download,
            access_unit=self.units[OWNER] if access == Access.UNIT else None,
            is_published=published and state != "unpublished",
        )
        chain = [item] + ([parent] if parent else []) + ([parent.parent] if parent and parent.parent else [])
        obj = Obj(key=f"{token} {label}", token=token, item=item, chain=chain, state=state)
        {
            "video": self._video,
            "audio": self._audio,
            "ebook-pdf": self._pdf,
            "ebook-epub": self._epub,
            "periodical": self._pdf,
            "newspaper": self._newspaper,
        }[kind](obj)
        if state == "withdrawn":
            # A takedown: the service drops the item's document and media; the old files stay in storage.
            LibraryItem.objects.filter(pk=item.pk).update(media_asset=None, document=None)
            item.refresh_from_db()
        return obj

    def _asset(self, obj: Obj, kind: str, master: str, data: bytes) -> None:
        name = _store(f"uploads/mx/{obj.token}/{master}", data)
        obj.files["master"] = name
        obj.asset = MediaAsset.objects.create(
            file=name, kind=kind, state="ready", original_name=f"{obj.token}-{master}"
        )
        # What an operator's log looks like: the worker's absolute paths, which no editor may be shown (item 8).
        log = f"ffmpeg -i {self.media_root}/{name} -f hls {self.media_root}/work/{obj.token}/out.m3u8"
        obj.job = TranscodeJob.objects.create(
            asset=obj.asset,
            state=TranscodeJob.State.DONE,
            log_tail=log,
            error=f"{self.media_root}/work/{obj.token} 已清理",
        )
        LibraryItem.objects.filter(pk=obj.item.pk).update(media_asset=obj.asset)
        obj.item.media_asset = obj.asset

    def _rendition(
        self, obj: Obj, file_label: str, profile: str, kind: str, relative: str, data: bytes | None, **meta
    ) -> Rendition:
        prefix = f"renditions/{obj.asset.pk}/{obj.job.pk}"
        if data is not None:
            obj.files[file_label] = _store(f"{prefix}/{relative}", data)
        return Rendition.objects.create(
            asset=obj.asset, job=obj.job, profile=profile, kind=kind, path=f"{prefix}/{relative}", meta=meta
        )

    def _captions(self, obj: Obj, relative_dir: str) -> None:
        secret = f"WEBVTT\n\n00:00.000 --> 00:01.000\n{obj.token} 字幕\n".encode()
        self._store_under(obj, "captions-segment", f"{relative_dir}/zh-Hans/c0.vtt", secret)
        playlist = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nc0.vtt\n#EXT-X-ENDLIST\n"
        self._rendition(
            obj,
            "captions-playlist",
            "captions",
            "captions",
            f"{relative_dir}/zh-Hans/index.m3u8",
            playlist.encode(),
            language="zh-Hans",
            label="中文",
            default=True,
            vtt=f"{relative_dir}/zh-Hans/c0.vtt",
        )

    def _store_under(self, obj: Obj, label: str, relative: str, data: bytes) -> None:
        obj.files[label] = _store(f"renditions/{obj.asset.pk}/{obj.job.pk}/{relative}", data)

    def _video(self, obj: Obj) -> None:
        self._asset(obj, "video", "master.mp4", f"MASTER-VIDEO {obj.token}".encode() * 8)
        master = (
            "#EXTM3U\n"
            '#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="中文",LANGUAGE="zh-Hans",'
            'URI="../captions/zh-Hans/index.m3u8"\n'
            '#EXT-X-STREAM-INF:BANDWIDTH=900000,CODECS="avc1.64001e,mp4a.40.2",SUBTITLES="subs"\n'
            "360p/index.m3u8\n"
            '#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=90000,URI="360p/iframes.m3u8"\n'
        )
        obj.hls = self._rendition(obj, "hls-master", "hls_web", "hls", "hls/master.m3u8", master.encode())
        variant = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\nseg_00000.m4s\n#EXT-X-ENDLIST\n"
        self._store_under(obj, "hls-variant", "hls/360p/index.m3u8", variant.encode())
        self._store_under(obj, "hls-iframes", "hls/360p/iframes.m3u8", variant.encode())
        self._store_under(obj, "hls-segment", "hls/360p/seg_00000.m4s", f"SEGMENT {obj.token}".encode() * 8)
        self._captions(obj, "captions")
        self._rendition(obj, "poster", "poster", "poster", "poster.jpg", _jpeg(obj.token))

    def _audio(self, obj: Obj) -> None:
        self._asset(obj, "audio", "master.wav", f"MASTER-AUDIO {obj.token}".encode() * 8)
        self._rendition(
            obj,
            "audio-edition",
            "audio_m4a",
            "audio",
            "audio/audio.m4a",
            f"M4A {obj.token}".encode() * 8,
            container="m4a",
        )
        self._captions(obj, "captions")

    def _document(self, obj: Obj, suffix: str, data: bytes) -> None:
        self._asset(obj, "document", f"book.{suffix}", data)
        obj.document = LighthouseDocument.objects.create(
            title=obj.item.title,
            file=ContentFile(data, name=f"{obj.token}.{suffix}"),
            collection=self.units[OWNER].collection,
        )
        obj.public_files["document"] = obj.document.file.name
        LibraryItem.objects.filter(pk=obj.item.pk).update(document=obj.document)
        obj.item.document = obj.document
        manifest = {"page_count": 1, "widths": [400], "pages": [{"number": 1, "file": "400/p0001.jpg"}]}
        self._rendition(
            obj,
            "pages-manifest",
            "document",
            "pages",
            "pages/manifest.json",
            json.dumps(manifest).encode(),
            page_count=1,
            widths=[400],
            toc=[],
        )
        self._store_under(obj, "page-image", "pages/400/p0001.jpg", _jpeg(obj.token))
        self._rendition(obj, "text", "document_text", "text", "text/all.txt", f"全文 {obj.token}".encode(), pages=1)

    def _pdf(self, obj: Obj) -> None:
        self._document(obj, "pdf", b"%PDF-1.4\n% " + f"MASTER-PDF {obj.token}".encode() * 8 + b"\n%%EOF\n")

    def _epub(self, obj: Obj) -> None:
        self._document(obj, "epub", b"PK\x03\x04" + f"MASTER-EPUB {obj.token}".encode() * 8)

    def _newspaper(self, obj: Obj) -> None:
        image = LighthouseImage.objects.create(
            title=obj.token,
            file=ContentFile(_jpeg(obj.token), name=f"{obj.token}.jpg"),
            collection=self.units[OWNER].collection,
            width=8,
            height=8,
        )
        obj.public_files["page-image"] = image.file.name
        page = IssuePage.objects.create(
            issue=obj.item, number=1, name="要闻", image=image, text=f"版面文字 {obj.token}"
        )
        token = self._token()
        article = LibraryItem.objects.create(
            kind="newspaper",
            role="article",
            parent=obj.item,
            title=f"{TITLE_WORD} 文章 {token}",
            owning_unit=self.units[OWNER],
            download=Download.READERS,
        )
        ArticleArea.objects.create(page=page, article=article, points=[[0, 0], [1, 0], [1, 1]])
        child = Obj(
            key=f"{token} article of {obj.key}", token=token, item=article, chain=[article, *obj.chain], state=obj.state
        )
        obj.children.append(child)


def import_closed_series(*, unit: OrgUnit, workdir: Path) -> tuple[list[LibraryItem], list[LibraryItem]]:
    """A series and its episode come in by CSV; a second CSV closes the series (members only), then one
    unpublishes another: the write path of issue 11 item 3. Returns (closed parents, their episodes)."""
    from library.imports.importer import import_file

    header = ["external_id", "title", "kind", "role", "parent_external_id", "access", "is_published", "download"]

    def run(rows: list[list[str]], name: str) -> None:
        path = workdir / name
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        batch = import_file(path=path, file_format="csv", source="mx-import", unit=unit)
        assert not batch.error, batch.error

    opened = []
    for key in ("s1", "s2"):
        opened += [
            [key, f"{TITLE_WORD} 导入系列 mxi{key}q", "audio", "series", "", "public", "true", "readers"],
            [f"{key}-e1", f"{TITLE_WORD} 导入单集 mxi{key}e1q", "audio", "episode", key, "public", "true", "readers"],
        ]
    run(opened, "open.csv")
    from search.services import search_outbox_drain_all

    search_outbox_drain_all()
    run(
        [
            ["s1", f"{TITLE_WORD} 导入系列 mxis1q", "audio", "series", "", "members", "true", "readers"],
            ["s2", f"{TITLE_WORD} 导入系列 mxis2q", "audio", "series", "", "public", "false", "readers"],
        ],
        "close.csv",
    )
    parents = list(LibraryItem.objects.filter(source="mx-import", role="series").order_by("external_id"))
    children = list(LibraryItem.objects.filter(source="mx-import", role="episode").order_by("external_id"))
    return parents, children


def build_world(media_root: Path) -> dict:
    builder = Builder(media_root)
    world = builder.build()
    parents, children = import_closed_series(unit=builder.units[OWNER], workdir=Path(tempfile.mkdtemp()))
    for parent, child in zip(parents, children, strict=True):
        token = child.title.split()[-1]
        how = "members" if parent.access == Access.MEMBERS else "unpublished"
        world["objects"].append(
            Obj(
                key=f"{token} imported episode, parent closed by CSV ({how})",
                token=token,
                item=child,
                chain=[child, parent],
                state=f"closed-by-import:{how}",
            )
        )
    return world
