"""The English catalogue (locale/en, the site's English switch): complete, compiled and in step with the source.

The source is written in Chinese (`gettext("学习报表")`, `{% trans "查看" %}`); an English user sees Chinese wherever
locale/en/LC_MESSAGES/django.po has no English for a string. When one fails:

    env -u DATABASE_URL LIGHTHOUSE_VAR_DIR=/tmp/en-var .venv/bin/python manage.py makemessages -l en \
        --ignore=.venv --ignore=node_modules --ignore=var --ignore=bench --ignore=tests

and for the scripts' words (`gettext("…")` in static .js/.mjs files, through static/js/words.mjs)

    … makemessages -d djangojs -l en -e js,mjs --ignore=.venv --ignore=node_modules --ignore=var --ignore=bench \
        --ignore=tests --ignore='*/vendor/*'

then translate the empty and `#, fuzzy` entries (drop the flag) and run `compilemessages -l en`.
"""

import gettext
import re
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES"
# The same folders makemessages skips in the command above.
IGNORED = (".venv", "node_modules", "var", "bench", "tests")
CJK = re.compile(r"[\u3400-\u9fff]")


ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    """A PO string's text: the quotes off, the C escapes read."""
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(0)), text.strip()[1:-1])


def _entries(path: Path) -> list[dict]:
    """The catalogue's live entries (not obsolete `#~` ones), each with its flags, locations, msgid and msgstrs."""
    entries, entry, field = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip() or line.startswith("#~"):
            if entry and "msgid" in entry:
                entries.append(entry)
            entry = field = None
            continue
        entry = entry or {"flags": set(), "where": [], "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#:"):
            entry["where"].extend(line[2:].split())
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            if isinstance(field, tuple):
                entry["msgstr"][field[1]] += _unquote(line)
            else:
                entry[field] += _unquote(line)
        else:
            keyword, value = line.split(" ", 1)
            if keyword.startswith("msgstr"):
                field = ("msgstr", keyword[7:-1] if "[" in keyword else "0")
                entry["msgstr"][field[1]] = _unquote(value)
            else:
                field = keyword
                entry[keyword] = _unquote(value)
    return [entry for entry in entries if entry["msgid"]]  # not the header


def _untranslated(entries: list[dict]) -> list[str]:
    return [
        f"{entry['msgid']!r} ({' '.join(entry['where'][:2])}){' [fuzzy]' if 'fuzzy' in entry['flags'] else ''}"
        for entry in entries
        if "fuzzy" in entry["flags"] or not all(entry["msgstr"].values())
    ]


DOMAINS = {"django": 1000, "djangojs": 25}  # each catalogue and the entries it has at least


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_entry_has_english(domain):
    """Every live entry of locale/en's django.po and djangojs.po has an English msgstr (each plural form too) and
    none is marked fuzzy: an empty or fuzzy entry shows English users the Chinese source string."""
    entries = _entries(CATALOGUE / f"{domain}.po")
    assert len(entries) > DOMAINS[domain]
    missing = _untranslated(entries)
    assert not missing, f"{len(missing)} entries without English:\n" + "\n".join(missing)


@pytest.mark.parametrize("domain", DOMAINS)
def test_compiled_catalogue_matches_the_po_file(domain):
    """Each .mo (what the site reads) holds exactly the English of its .po: a translation added without running
    compilemessages would still show Chinese."""
    with (CATALOGUE / f"{domain}.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    stale = []
    for entry in _entries(CATALOGUE / f"{domain}.po"):
        key = f"{entry['msgctxt']}\x04{entry['msgid']}" if "msgctxt" in entry else entry["msgid"]
        if "msgid_plural" in entry:
            got = [compiled._catalog.get((key, int(n))) for n in sorted(entry["msgstr"])]
            want = [entry["msgstr"][n] for n in sorted(entry["msgstr"])]
        else:
            got, want = compiled._catalog.get(key), entry["msgstr"]["0"]
        if got != want:
            stale.append(entry["msgid"])
    assert not stale, f"{domain}.mo is older than {domain}.po for:\n" + "\n".join(map(repr, stale))


def test_catalogue_is_in_step_with_the_source(tmp_path, monkeypatch):
    """Every translatable string in the project's Python files and templates has an English entry: makemessages,
    run over the source into a copy of locale/en (the real catalogue is not touched), finds no string that the
    catalogue lacks or whose English no longer fits (new, or changed and so fuzzy). The failure names them."""
    if not shutil.which("xgettext"):
        pytest.fail("xgettext is missing: install gettext (make deps)")
    # A mirror of the project: its folders and files linked, its locale a copy. makemessages writes the catalogue
    # of every file into the locale folder under the mirror, never into the project's.
    mirror = tmp_path / "project"
    mirror.mkdir()
    for child in ROOT.iterdir():
        if child.name not in (*IGNORED, "locale") and not child.name.startswith("."):
            (mirror / child.name).symlink_to(child)
    shutil.copytree(CATALOGUE, mirror / "locale" / "en" / "LC_MESSAGES")
    before = {domain: (CATALOGUE / f"{domain}.po").read_bytes() for domain in DOMAINS}
    monkeypatch.chdir(mirror)
    with override_settings(LOCALE_PATHS=[mirror / "locale"]):
        call_command(
            "makemessages", locale=["en"], ignore_patterns=list(IGNORED), symlinks=True, verbosity=0
        )  # fmt: skip
        call_command(
            "makemessages", locale=["en"], domain="djangojs", extensions=["js", "mjs"],
            ignore_patterns=[*IGNORED, "*/vendor/*"], symlinks=True, verbosity=0,
        )  # fmt: skip
    for domain in DOMAINS:
        assert (CATALOGUE / f"{domain}.po").read_bytes() == before[domain], "makemessages changed the catalogue"
    made = mirror / "locale" / "en" / "LC_MESSAGES"
    missing = _untranslated(_entries(made / "django.po")) + _untranslated(_entries(made / "djangojs.po"))
    assert not missing, (
        f"{len(missing)} source strings have no English in locale/en (run makemessages -l en, translate them, "
        "compilemessages -l en):\n" + "\n".join(missing)
    )


@pytest.mark.django_db
def test_english_switch_shows_courses_in_english(client):
    """With English chosen by the language switch, the course index and a course page carry English headings and
    none in Chinese: the courses app's strings reach English users through the catalogue."""
    from wagtail.models import Site

    from courses.models import CourseIndexPage, CoursePage

    root = Site.objects.get(is_default_site=True).root_page
    index = root.add_child(instance=CourseIndexPage(title="灯塔大课堂", slug="courses"))
    now = timezone.now()
    for issue, premiere in ((1, now - timedelta(days=60)), (2, now - timedelta(hours=1))):
        index.add_child(
            instance=CoursePage(
                title=f"第{issue}期", slug=f"issue-{issue}", issue_number=issue, theme="学习贯彻党的二十大精神",
                premiere_at=premiere, study_closes_at=premiere + timedelta(days=20),
                makeup_deadline=premiere + timedelta(days=26),
            )
        )  # fmt: skip
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    html = client.get("/courses/").content.decode()
    assert '<html lang="en"' in html
    headings = re.findall(r"<h2[^>]*>(.*?)</h2>", html, re.S)
    assert "Past courses" in headings and "This month's course" in headings, headings
    assert not [h for h in headings if CJK.search(h)], headings
    assert "No. 1" in html and "Open the course" in html

    html = client.get("/courses/issue-2/").content.decode()
    headings = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html, re.S)]
    assert "Course content" in headings, headings
    assert not [h for h in headings if CJK.search(h)], headings
    assert "Lighthouse Classroom · No. 2" in html


@pytest.mark.django_db
def test_scripts_speak_the_page_language(client):
    """Chinese pages load no catalogue (the scripts' words are Chinese already); an English page loads the
    JavaScript catalogue for its language, which carries the quiz's and the players' words in English."""
    assert "jsi18n" not in client.get("/search/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert 'src="/jsi18n/?l=en"' in client.get("/search/").content.decode()
    english = client.get("/jsi18n/?l=en")
    assert english.status_code == 200 and "public" in english["Cache-Control"]
    assert english["Content-Language"] == "en"
    body = english.content.decode()
    assert "Saving" in body  # 正在保存…… (JSON may escape the ellipsis)
    assert "Favourite" in body
    assert "Saving" not in client.get("/jsi18n/?l=zh-hans").content.decode()
