"""Browser tests: headless Chromium from Debian's `chromium` package, driven by Playwright's sync API.

- No `playwright install`: we launch /usr/bin/chromium through `executable_path`.
- pytest-django's `live_server` runs the app in a thread and makes the database transactional.
- The sync Playwright API runs an event loop in the test thread, so Django's ORM would refuse to
  run in it; DJANGO_ALLOW_ASYNC_UNSAFE lifts that, for the browser tests only (an autouse fixture,
  so it never leaks into other tests or the subprocesses they start; ecosystem.md §5.1).
- Our CSP forbids eval, so waits use `expect(locator)`, never `page.wait_for_function`.
- Screenshots of the key steps go to test-results/ (gitignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..conftest import missing_service

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def _allow_orm_beside_playwright():
    # Module-scoped like the browser: the ORM runs beside Playwright's loop until its teardown.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser(_allow_orm_beside_playwright):
    if not CHROMIUM.exists():
        # A skip on a developer's machine, a failure when CI sets REQUIRE_SERVICES=1.
        missing_service(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_context(browser, live_server):
    """new_context(**options) -> a fresh browser context on the live server; closed after the test."""
    contexts = []

    def make(**options):
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900}, **options)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    return new_context().new_page()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "step") saves test-results/<test>-<step>.png: the viewport, or one element
    (of=locator), or the whole page (full_page=True)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    prefix = request.node.name.removeprefix("test_")[:40]

    def take(page, step: str, *, of=None, full_page: bool = False) -> Path:
        path = RESULTS_DIR / f"{prefix}-{step}.png"
        if of is not None:
            of.screenshot(path=str(path))
        else:
            page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def axe_violations(page, *, what: str = "", within: str | None = None) -> str:
    """Run axe-core (bundled with axe-playwright-python, no network); a readable report, "" when clean.
    `within` (a CSS selector) limits the check to our own part of a page whose frame we do not own
    (Django admin's markup)."""
    from axe_playwright_python.sync_playwright import Axe

    context = {"include": [[within]]} if within else None
    violations = Axe().run(page, context=context).response["violations"]
    if not violations:
        return ""
    lines = [f"axe found {len(violations)} violation(s) on {what or page.url} ({page.url}):"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} [{violation['helpUrl']}]")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node['target']}: {node['html'][:200]}")
    return "\n".join(lines)


def axe_check(page, *, what: str = "") -> None:
    """Require zero axe-core violations on the page as it is now; print them otherwise."""
    report = axe_violations(page, what=what)
    if report:
        print(report)
        pytest.fail(report, pytrace=False)


@pytest.fixture
def axe():
    """Collects axe reports along a scenario so one page's violations do not hide the rest of the journey
    (or the other pages' violations): axe.check(page, what=...) at each step, axe.assert_clean() at the end."""

    class Collector:
        def __init__(self):
            self.reports: list[str] = []

        def check(self, page, *, what: str = "", within: str | None = None) -> None:
            report = axe_violations(page, what=what, within=within)
            if report:
                print(report)
                self.reports.append(report)

        def assert_clean(self) -> None:
            if self.reports:
                pytest.fail("\n\n".join(self.reports), pytrace=False)

    return Collector()


def log_in(context, live_server, user) -> None:
    """Give the browser context a logged-in session for `user` without going through the login form."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
