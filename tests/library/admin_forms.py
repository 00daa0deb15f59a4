"""What the admin's tests share: signing in as a demo editor and the item form's fields (load_demo's names)."""

from cms.models import Member, OrgUnit

NEW_ITEM = "/admin/library_items/new/"


def login_as(client, username: str) -> None:
    client.force_login(Member.objects.get(username=username))


def unit_by_code(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def item_form(unit_code: str = "zouping", **extra) -> dict:
    """A valid new-item form (a public e-book of the unit, readable only), with ``extra`` fields changed."""
    data = {
        "kind": "ebook",
        "role": "item",
        "title": "党员手册",
        "owning_unit": unit_by_code(unit_code).pk,
        "access": "public",
        "download": "none",
        "language": "zh",
        "position": "0",
        "published_at": "2026-11-01 10:00:00",
        "is_published": "on",
    }
    return data | extra
