"""The member pages a browser audit opens, one of each page type, read from the demo's data (``load_demo``).

The accessibility test (tests/e2e/test_accessibility.py) opens each of them on a phone and a desk in both type
modes; the transferred-bytes benchmark in ``bench/`` can open the same list against a running demo site:

    from tests.e2e.pages import member_pages
    for page in member_pages():  # needs Django set up on the demo's database
        print(page.name, page.path, page.signed_in)

Only reads: the one exception is the quiz page, which needs a started attempt (``quiz_attempt_for``)."""

from dataclasses import dataclass, replace
from urllib.parse import quote

from cms.demo import data
from cms.models import EducationBasePage, SectionPage, StandardPage
from library.models import ItemList, LibraryItem, LibraryPage
from library.selectors import item_url

# A member of the demo (cms/demo/data.py MEMBERS): 我的图书馆 and the quiz are opened signed in as this one.
DEMO_MEMBER = data.MEMBERS[0][0]
# The demo's branch secretary (cms/demo/data.py EDITORS): the session and report pages are opened as this one.
DEMO_SECRETARY = next(row[0] for row in data.EDITORS if row[3] == "secretary")
# Search words: one the demo's titles contain, one that finds nothing and has no correction either.
FOUND_QUERY = "党史"
MISSING_QUERY = "zzqqxx"
# Item pages that change for a signed-in member (收藏, the study clock, saved places): opened both ways.
MEMBER_TOO = ("video", "audio", "article", "pdf-reader", "epub-reader", "text-version")
NOT_FOUND_PATH = "/no-such-page/"


@dataclass(frozen=True)
class MemberPage:
    """One page type: a short name (also the bench's row label), its path, whether the demo member must be signed
    in, and a CSS selector that shows the page is usable (the player or reader has come up), if any."""

    name: str
    path: str
    signed_in: bool = False
    ready: str = ""
    secretary: bool = False  # opened signed in as the demo's branch secretary (DEMO_SECRETARY) instead


def _demo_item(key: str) -> LibraryItem:
    return LibraryItem.objects.get(source="demo", external_id=key)


def _demo_item_titled(title: str) -> LibraryItem:
    return LibraryItem.objects.get(source="demo", title=title)


def member_pages(*, include_quiz: bool = False, include_secretary: bool = False) -> list[MemberPage]:
    """Every member page type of the demo site. ``include_quiz`` adds the quiz page (it needs an open attempt),
    ``include_secretary`` the branch secretary's pages (signed in as DEMO_SECRETARY)."""
    library = LibraryPage.objects.live().first().url
    video_title = data.VIDEOS[0][0]
    ebook_pdf, ebook_epub = (_demo_item(row[0]) for row in data.EBOOKS)
    newspaper_issue = _demo_item(data.NEWSPAPER["issue"][0])
    periodical_issue = _demo_item(data.PERIODICAL["issue"][0])
    pages = [
        MemberPage("home", "/"),
        MemberPage("library", library),
        MemberPage("library-filtered", f"{library}?kind=video"),
        MemberPage("curated-list", f"{library}list/{ItemList.objects.get(slug=data.CURATED['slug']).slug}/"),
        MemberPage("video", item_url(_demo_item_titled(video_title)), ready="video"),
        MemberPage("video-episode", item_url(_demo_item(data.SERIES[0][7][0][0])), ready="video"),
        MemberPage("video-series", item_url(_demo_item(data.SERIES[0][0]))),
        MemberPage("audio", item_url(_demo_item(data.SERIES[1][7][0][0])), ready="audio"),
        MemberPage("article", item_url(_demo_item(data.ILLUSTRATED_ARTICLE["key"]))),
        MemberPage("sign-in-prompt", item_url(_demo_item_titled(_members_only_title()))),  # 请登录后阅读
        MemberPage("creator", f"{library}creator/{quote(data.ILLUSTRATED_ARTICLE['credits'][0][0])}/"),
        MemberPage("pdf-reader", item_url(ebook_pdf), ready=".pdf-stage img, .pdf-stage canvas"),
        MemberPage("epub-reader", item_url(ebook_epub), ready=".epub-stage foliate-view"),
        MemberPage("text-version", item_url(ebook_pdf) + "?view=text"),
        MemberPage("periodical", item_url(_demo_item(data.PERIODICAL["key"]))),
        MemberPage("periodical-issue", item_url(periodical_issue)),
        MemberPage("newspaper", item_url(_demo_item(data.NEWSPAPER["key"]))),
        MemberPage("newspaper-issue", item_url(newspaper_issue), ready=".page-image img"),
        MemberPage("newspaper-article", item_url(_demo_item(data.NEWSPAPER["articles"][0][0]))),
        MemberPage("search", f"/search/?q={quote(FOUND_QUERY)}"),
        MemberPage("search-empty", f"/search/?q={MISSING_QUERY}"),
        MemberPage("search-start", "/search/"),
        MemberPage("sign-in", "/login/"),
        MemberPage("forgot-password", "/login/forgot/"),
        MemberPage("my-library", f"{library}me/", signed_in=True),
        MemberPage("not-found", NOT_FOUND_PATH),
        MemberPage("channel", SectionPage.objects.live().first().url),
        MemberPage("standard-page", StandardPage.objects.live().first().url),
        MemberPage("education-base", EducationBasePage.objects.live().first().url),
    ]
    pages += [replace(page, name=f"{page.name}-member", signed_in=True) for page in pages if page.name in MEMBER_TOO]
    pages += _course_pages(include_quiz=include_quiz, include_secretary=include_secretary)
    return pages


def _members_only_title() -> str:
    return next(title for _kind, title, _summary, _unit, access in data.ITEMS if access == "members")


def _course_pages(*, include_quiz: bool, include_secretary: bool) -> list[MemberPage]:
    """The current course's pages when the demo has courses: the course, its practice, the courses' index, the
    member's study hours and inbox (and the quiz); the secretary's session list, the held session and the reports
    (a month's course, a year's hours)."""
    from courses.models import BranchSession, CourseIndexPage
    from courses.selectors import course_current

    course = course_current()
    if course is None:
        return []
    pages = [
        MemberPage("course", course.url, signed_in=True),
        MemberPage("course-index", CourseIndexPage.objects.live().first().url),
        MemberPage("practice", course.url + "practice/", signed_in=True),
        MemberPage("study-hours", "/study/hours/", signed_in=True),
        MemberPage("inbox", "/inbox/", signed_in=True),
    ]
    if include_quiz:
        pages.append(MemberPage("quiz", course.url + "quiz/", signed_in=True))
    if include_secretary:
        held = BranchSession.objects.filter(course=course).order_by("pk").first()
        pages += [
            MemberPage("sessions", course.url + "sessions/", signed_in=True, secretary=True),
            MemberPage("reports", "/study/reports/", signed_in=True, secretary=True),
            MemberPage("reports-hours", "/study/reports/hours/", signed_in=True, secretary=True),
        ]
        if held is not None:
            pages.append(MemberPage("session", f"{course.url}sessions/{held.pk}/", signed_in=True, secretary=True))
    return pages


def quiz_attempt_for(member) -> None:
    """Opens an attempt at the current course's quiz for ``member`` (the quiz page shows only an open one)."""
    from courses.selectors import course_current
    from courses.services import quiz_attempt_start

    course = course_current(member=member)
    if course is not None:
        quiz_attempt_start(member=member, course=course)
