"""The search page in a real browser (Debian's Chromium driven by Playwright): suggestions as you type, and the
arrow keys a TV remote sends moving between results and filters."""

import pytest

from library.models import LibraryItem
from library.selectors import item_url
from search.engines.choice import engine_configured, get_cluster_engine
from search.services import search_outbox_drain_all
from tests import factories

# serialized_rollback: the browser tests before this one flushed the database; it brings back Wagtail's root page.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def indexed(search_index, settings):
    """Library items indexed on whatever engine is configured (the embedded index always), on this test's index."""
    # Drained here, in this process: queued tasks go to the database queue and nobody works them.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}
    factories.library_page()
    unit = factories.OrgUnitFactory(name="山东省", code="sd-search-e2e")

    def index(*titles: str, kind=LibraryItem.Kind.EBOOK) -> list[LibraryItem]:
        items = [factories.LibraryItemFactory(title=title, kind=kind, owning_unit=unit) for title in titles]
        search_outbox_drain_all()
        if engine_configured():
            get_cluster_engine().refresh()
        return items

    return index


def _focused_text(page) -> str:
    return page.evaluate("document.activeElement.textContent.trim()")


def test_suggestions_open_with_arrow_down_and_enter(live_server, browser_page, indexed):
    """Typing 红楼 shows a suggestion list (an ARIA combobox); ArrowDown marks the first, Enter opens that item;
    Escape closes the list."""
    (book,) = indexed("红楼梦有声书")
    page = browser_page
    page.goto(f"{live_server.url}/search/")
    box = page.locator("#search-q")
    assert box.evaluate("element => element === document.activeElement")  # autofocus on an empty page
    box.press_sequentially("红楼", delay=50)
    option = page.locator("#search-suggestions [role=option]").first
    option.wait_for(state="visible")
    assert option.inner_text() == "红楼梦有声书"
    assert box.get_attribute("role") == "combobox" and box.get_attribute("aria-expanded") == "true"

    box.press("Escape")
    assert page.locator("#search-suggestions").is_hidden() and box.get_attribute("aria-expanded") == "false"

    box.press_sequentially("梦", delay=50)
    option.wait_for(state="visible")
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == option.get_attribute("id")
    assert option.get_attribute("aria-selected") == "true"
    with page.expect_navigation():
        box.press("Enter")
    assert page.url == live_server.url + item_url(book)


def test_arrow_keys_move_between_results_and_into_the_filters(live_server, browser_page, indexed):
    """On a results page ArrowDown moves focus from result 1 to result 2, ArrowUp back; ArrowRight enters the
    filters column and ArrowLeft returns to the same result; the focus ring is thick."""
    indexed("党史学习读本", "党史故事", "党史知识问答")
    page = browser_page
    page.goto(f"{live_server.url}/search/?q=党史")
    results = page.locator("[data-nav=result]")
    assert results.count() == 3
    results.nth(0).focus()
    first, second = results.nth(0).inner_text(), results.nth(1).inner_text()

    page.keyboard.press("ArrowDown")
    assert _focused_text(page) == second
    page.keyboard.press("ArrowUp")
    assert _focused_text(page) == first
    page.keyboard.press("ArrowDown")

    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.getAttribute('data-nav')") == "facet"
    outline = page.evaluate("parseFloat(getComputedStyle(document.activeElement).outlineWidth)")
    assert outline >= 3
    page.keyboard.press("ArrowLeft")
    assert _focused_text(page) == second

    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/library/" in page.url


def test_a_late_suggestion_reply_does_not_reopen_the_list_over_an_emptied_box(live_server, browser_page, indexed):
    """When the member empties the box while suggestions are still on their way, the late reply is dropped: the
    list stays closed."""
    indexed("红楼梦有声书")
    page = browser_page
    held = []
    # The reply is held back, as on a slow rural network, and let through after the box was emptied.
    page.route("**/api/v1/search/suggest**", lambda route: held.append(route))
    page.goto(f"{live_server.url}/search/")
    box = page.locator("#search-q")
    box.press_sequentially("红楼", delay=50)
    while not held:
        page.wait_for_timeout(50)
    box.fill("")
    page.evaluate("() => new Promise(resolve => setTimeout(resolve, 400))")  # past the typing pause
    for route in held:
        try:
            route.continue_()
        except Exception:  # noqa: BLE001 — the page already gave up on it, which is the point
            pass
    page.wait_for_load_state("networkidle")
    page.evaluate("() => new Promise(resolve => setTimeout(resolve, 200))")  # let a reply's handlers run
    assert page.locator("#search-suggestions").is_hidden()
    assert box.get_attribute("aria-expanded") == "false"


def test_arrow_down_while_an_input_method_composes_stays_in_the_box(live_server, browser_page, indexed):
    """ArrowDown in the box moves to the first result, except while a Chinese input method is composing (the
    arrows then pick among its candidates)."""
    indexed("党史学习读本")
    page = browser_page
    page.goto(f"{live_server.url}/search/?q=党史")
    page.locator("[data-nav=result]").first.wait_for()
    box = page.locator("#search-q")
    box.focus()
    composing = "new KeyboardEvent('keydown', {key: 'ArrowDown', isComposing: true, bubbles: true, cancelable: true})"
    box.evaluate(f"element => element.dispatchEvent({composing})")
    assert box.evaluate("element => element === document.activeElement")
    box.press("ArrowDown")
    assert page.evaluate("document.activeElement.getAttribute('data-nav')") == "result"
