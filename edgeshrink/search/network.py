"""Time to the first prediction of a bundle's variant in headless Chromium, on localhost and over an
emulated phone connection (Chrome DevTools Protocol network conditions and CPU throttling)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from edgeshrink.errors import BundleError, SearchError


@dataclass(frozen=True)
class Profile:
    """A connection: throughput in Mbit/s both ways, round-trip time, and the CPU slow-down of a phone."""

    name: str
    mbit_s: float | None  # None: no emulation (localhost)
    rtt_ms: float
    cpu_slowdown: float


PROFILES = {
    "localhost": Profile("localhost", None, 0, 1),
    "4g": Profile("4g", 9.0, 100, 4),
    "slow-4g": Profile("slow-4g", 1.6, 150, 4),
}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise SearchError(f"unknown network {name!r}; choose one of {', '.join(PROFILES)}") from None


def first_predictions(dist: Path, variants: list[str], profiles: list[str], executable: str | None = None,
                      browser=None) -> dict[str, dict[str, float]]:
    """variant -> profile -> ms from navigation start to the first prediction, each on a cold cache,
    the bundle served brotli-compressed as a production host would (the bytes the search minimizes)."""
    from edgeshrink.search.brotli_serve import running_brotli
    from edgeshrink.web.browser import Watch, using

    out: dict[str, dict[str, float]] = {name: {} for name in variants}
    with running_brotli(dist) as url, using(browser, executable) as chromium:
        watch = Watch(url)
        for name in variants:
            for prof in profiles:
                out[name][prof] = _first(chromium, f"{url}?model={quote(name)}", watch, PROFILES[prof], name)
        watch.check()
    return out


def open_emulated(context, url: str, watch, prof: Profile):
    """A new page at `url` over `prof`'s connection and CPU (no cache, so every byte is transferred)."""
    from edgeshrink.web.browser import TIMEOUT_MS

    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS * 3)
    watch.attach(page)
    if prof.mbit_s is not None:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        rate = prof.mbit_s * 1e6 / 8
        cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": prof.rtt_ms,
                                                      "downloadThroughput": rate, "uploadThroughput": rate})
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": prof.cpu_slowdown})
    page.goto(url)
    return page


def _first(browser, url: str, watch, prof: Profile, name: str) -> float:
    from playwright.sync_api import Error as PlaywrightError

    from edgeshrink.web.browser import settle

    context = browser.new_context()  # a fresh cache: a first visit
    try:
        page = open_emulated(context, url, watch, prof)
        page.wait_for_function("() => window.edgeshrink !== undefined")
        status, first = settle(page, "window.edgeshrink.timeToFirstPrediction")
    except PlaywrightError as exc:
        raise BundleError(f"variant {name} on {prof.name}: the page stopped answering: "
                          f"{' '.join(str(exc.message).split())}") from exc
    finally:
        context.close()
    if status == "error":
        raise BundleError(f"variant {name} does not run in the browser on {prof.name}: {first}")
    return round(float(first), 1)
