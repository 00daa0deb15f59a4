"""Credits as one line an editor can type: "曹雪芹:著；高鹗:编" (name, colon, role; entries split by ；; or new line).

One text field instead of a formset: editors copy credits from a title page in this shape, and the catalogue card
("曹雪芹 著；高鹗 编") reads back the same way, so the role may also follow the name after a space.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from library.models import ItemCredit

_ENTRY_SEPARATORS = re.compile(r"[；;\n\r]+")
_NAME_ROLE = re.compile(r"^(?P<name>.+?)\s*[:：]\s*(?P<role>[^:：]*)$")
# Labels an editor may write, beyond the role's own short label (著, 编, 译 …) and its code (author, editor …).
_ALIASES = {
    "作者": "author",
    "著者": "author",
    "编著": "author",
    "主编": "editor",
    "编者": "editor",
    "译者": "translator",
}


def _roles() -> dict[str, str]:
    roles = {str(label): value for value, label in ItemCredit.Role.choices}
    roles.update({value: value for value in ItemCredit.Role.values})
    roles.update(_ALIASES)
    return roles


def _entry(text: str, roles: dict[str, str]) -> tuple[str, str]:
    match = _NAME_ROLE.match(text)
    if match:
        name, label = match["name"].strip(), match["role"].strip()
    else:
        head, _sep, tail = text.rpartition(" ")
        name, label = (head.strip(), tail) if head and tail in roles else (text, "")
    if not name:
        raise ValidationError(_("“%(text)s”缺少姓名。") % {"text": text})
    if len(name) > 100:
        raise ValidationError(_("姓名“%(name)s”太长（最多 100 个字）。") % {"name": name[:20]})
    if not label:
        return name, ItemCredit.Role.AUTHOR
    if label not in roles:
        allowed = "、".join(str(label) for _value, label in ItemCredit.Role.choices)
        raise ValidationError(
            _("不认识的责任方式“%(role)s”，可以用：%(allowed)s。") % {"role": label, "allowed": allowed}
        )
    return name, roles[label]


def credits_parse(text: str) -> list[tuple[str, str]]:
    """[(name, role)] in the order written; a name without a role is an author. Raises ValidationError."""
    roles = _roles()
    entries = [part.strip() for part in _ENTRY_SEPARATORS.split(text or "") if part.strip()]
    return [_entry(entry, roles) for entry in entries]


def credits_format(credits) -> str:
    """The editable line for an item's credits (ItemCredit rows or (name, role) pairs)."""
    labels = dict(ItemCredit.Role.choices)
    pairs = [(c.name, c.role) if isinstance(c, ItemCredit) else tuple(c) for c in credits]
    return "；".join(f"{name}:{labels.get(role, role)}" for name, role in pairs)
