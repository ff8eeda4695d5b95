"""Browser tests: the real app served by uvicorn on 127.0.0.1 (``serve``, from
``tests/e2e/conftest.py``), driven by Playwright in Debian's chromium (headless).
Screenshots go to backend/test-artifacts/."""

import shutil
import time
from pathlib import Path

import pytest

from app.core.paths import BACKEND_DIR

ARTIFACTS = BACKEND_DIR / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
#: Flags for a machine with a closed network: no background connections, no sandbox (root).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="package")
def playwright():
    """Playwright for the page tests, stopped after them: its sync API keeps an event loop
    running in this thread while it is open, which other tests' asyncio.run() would trip
    over."""
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (make test does)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    yield playwright
    playwright.stop()


@pytest.fixture(scope="package")
def browser(playwright):
    """One browser for the page tests."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    """A phone-sized page; the test fails if the pages' own scripts or styles broke their
    Content-Security-Policy (the browser reports each refusal on the console)."""
    yield from phone_page(browser)


def phone_page(browser, **context_options):
    context = browser.new_context(
        viewport={"width": 412, "height": 860}, locale="ru-RU", **context_options
    )
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    context.close()
    assert refused == [], refused


def wait_for_expression(page, expression: str, timeout: float = 15) -> None:
    """Poll a JavaScript expression until it is true. Playwright's ``wait_for_function``
    evaluates its predicate with ``eval`` inside the page, which the pages' CSP forbids (as
    it should); ``evaluate`` goes through the DevTools protocol instead. An expression that
    throws (a script not loaded yet) counts as not true yet."""
    deadline = time.monotonic() + timeout
    guarded = f"(() => {{ try {{ return Boolean({expression}); }} catch {{ return false; }} }})()"
    while not page.evaluate(guarded):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        time.sleep(0.1)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
