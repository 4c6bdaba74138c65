"""Headless Chromium through Playwright, pointed at a served bundle and watched for foreign requests."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

from edgeshrink.errors import BundleError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")  # looked up on PATH
ENV = "EDGESHRINK_CHROMIUM"  # the path of another Chromium executable
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
INSTALL_HINT = (f"install Playwright's (python -m playwright install chromium) or the system's (apt-get install -y "
                f"chromium), or set {ENV} to a Chromium executable")
TIMEOUT_MS = 90_000


def find_chromium(executable: str | None = None, playwrights: str | None = None) -> str:
    """The Chromium to drive: `executable` if given, else $EDGESHRINK_CHROMIUM, else Playwright's own (its path is
    `playwrights`) when it is installed, else the first of CANDIDATES on PATH."""
    executable = executable or os.environ.get(ENV)
    if executable:
        found = executable if Path(executable).is_file() else shutil.which(executable)
        if not found:
            raise BundleError(f"no Chromium found at {executable}; {INSTALL_HINT}")
        return str(found)
    if playwrights and Path(playwrights).is_file():
        return playwrights
    for candidate in CANDIDATES:
        if shutil.which(candidate):
            return shutil.which(candidate)
    raise BundleError(f"no Chromium found (neither Playwright's nor {', '.join(CANDIDATES)} on PATH); {INSTALL_HINT}")


def require() -> None:
    """Check Playwright (the `browser` extra) is installed before any work, else a BundleError naming the fix."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        raise BundleError("driving Chromium (bundle --verify, screenshots) needs Playwright, which is not "
                          "installed; pip install 'edgeshrink[browser]'") from exc


def locate(executable: str | None = None) -> str:
    """The Chromium `chromium()` would launch (BundleError naming the fix if there is none), before any work."""
    require()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        return find_chromium(executable, pw.chromium.executable_path)


@contextlib.contextmanager
def chromium(executable: str | None = None) -> Iterator:
    """A launched headless Chromium (a Playwright Browser): see find_chromium; never downloads a browser."""
    require()
    from playwright.sync_api import Error, sync_playwright

    try:
        pw = sync_playwright().start()
    except Error as exc:
        raise BundleError("Playwright is already running in this thread (or inside an asyncio loop); "
                          "pass the open browser instead of launching another") from exc
    try:
        path = find_chromium(executable, pw.chromium.executable_path)
    except BundleError:
        pw.stop()
        raise
    try:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=ARGS)
    except Error as exc:
        pw.stop()
        first = str(exc).strip().splitlines()[0]
        raise BundleError(f"Chromium at {path} did not start: {first}; {INSTALL_HINT}") from exc
    try:
        yield browser
    finally:
        browser.close()
        pw.stop()


@contextlib.contextmanager
def using(browser=None, executable: str | None = None) -> Iterator:
    """`browser` if the caller already has one open, else a newly launched Chromium."""
    if browser is not None:
        yield browser
        return
    with chromium(executable) as launched:
        yield launched


class Watch:
    """Records what a page does that a self-contained bundle must not: requests to other origins, errors."""

    def __init__(self, base_url: str):
        self.origin = _origin(base_url)
        self.foreign: list[str] = []
        self.errors: list[str] = []

    def attach(self, page) -> None:
        page.on("request", self._request)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _request(self, request) -> None:
        url = request.url
        if urlsplit(url).scheme not in ("data", "blob") and _origin(url) != self.origin:
            self.foreign.append(url)

    def check(self) -> None:
        if self.foreign:
            more = f" and {len(self.foreign) - 1} more" if len(self.foreign) > 1 else ""
            raise BundleError(f"the page requested another origin: {self.foreign[0]}{more}; "
                              "a bundle must load everything from its own folder")


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def open_page(context, url: str, watch: Watch, page=None):
    """`page` (else a new page of `context`) at `url`, once the app's test hook exists."""
    page = page or context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watch.attach(page)
    page.goto(url)
    page.wait_for_function("() => window.edgeshrink !== undefined")
    return page


def settle(page, expression: str):
    """Await a promise of the page's hook: ('ok', value) or ('error', the page's own message)."""
    return page.evaluate(
        f"""() => ({expression}).then(
            (value) => ['ok', value ?? null],
            (err) => ['error', (err && err.message) || String(err)])"""
    )
