"""How fast the page is where users are: first prediction in fresh browser contexts on localhost, on
throttled networks and on a 4x slower CPU (Chromium's DevTools protocol), and per-digit latency."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from edgeshrink.errors import BundleError
from edgeshrink.web.check.browser import TIMEOUT_MS, Watch, settle


@dataclass(frozen=True)
class Profile:
    """Network and CPU conditions for a page load; None leaves that side as it is."""

    name: str
    mbit_per_s: float | None = None
    rtt_ms: float | None = None
    cpu_slowdown: float = 1.0
    description: str = ""


PROFILES = {p.name: p for p in (
    Profile("localhost", description="no throttling"),
    Profile("4g", 9.0, 100, description="9 Mbit/s, 100 ms round trips"),
    Profile("slow-4g", 1.6, 150, description="1.6 Mbit/s, 150 ms round trips"),
    Profile("cpu4x", cpu_slowdown=4, description="CPU slowed 4x, as on a mid-range phone"),
)}


def profiles(names: list[str] | tuple[str, ...]) -> list[Profile]:
    unknown = [n for n in names if n not in PROFILES]
    if unknown:
        raise BundleError(f"unknown profile {unknown[0]!r}; choose from {', '.join(PROFILES)}")
    return [PROFILES[n] for n in names]


@dataclass(frozen=True)
class Load:
    """One fresh page load of a variant: when the first digit was classified, what crossed the wire."""

    first_prediction_ms: float  # the answer in the page (the page's own timestamp)
    first_shown_ms: float | None  # the frame that showed it on screen (Element Timing), None if not reported
    transferred_bytes: int  # encoded bytes received (bodies and headers) until the gallery had loaded
    requests: int


def _throttle(cdp, profile: Profile) -> None:
    if profile.mbit_per_s is not None:
        rate = profile.mbit_per_s * 1e6 / 8  # bytes per second
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": profile.rtt_ms or 0, "downloadThroughput": rate,
            "uploadThroughput": rate})
    if profile.cpu_slowdown != 1:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": profile.cpu_slowdown})


# Waits for the page's first prediction through the DevTools protocol: a few lines polled in the page, not
# Playwright's injected scripts, which run on the page's main thread while it loads (20-30 ms here) and
# would delay what is measured. ['ok', [ms, shown ms or null]] or ['error', message].
_FIRST_PREDICTION = f"""new Promise((resolve) => {{
  const deadline = performance.now() + {TIMEOUT_MS};
  const shown = () => Promise.race([window.edgeshrink.firstPredictionShown ?? null,
    new Promise((later) => setTimeout(() => later(null), 5000))]);
  const poll = () => {{
    if (window.edgeshrink) {{
      window.edgeshrink.timeToFirstPrediction.then(async (ms) => resolve(["ok", [ms, await shown()]]),
        (err) => resolve(["error", (err && err.message) || String(err)]));
    }} else if (performance.now() > deadline) {{
      resolve(["error", "the page's script never started (no window.edgeshrink)"]);
    }} else {{
      setTimeout(poll, 10);
    }}
  }};
  poll();
}})"""


def _first_prediction(cdp) -> tuple[str, object]:
    reply = cdp.send("Runtime.evaluate", {"expression": _FIRST_PREDICTION, "awaitPromise": True,
                                          "returnByValue": True})
    if "exceptionDetails" in reply:
        return "error", reply["exceptionDetails"].get("text", "the page's script failed")
    return tuple(reply["result"]["value"])


def load_once(browser, url: str, name: str, profile: Profile, watch: Watch, then=None):
    """Open the page for variant `name` in a fresh context (empty cache) under `profile`; (Load, then(page))."""
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        received = {"bytes": 0, "requests": 0}

        def finished(event) -> None:
            received["bytes"] += int(event.get("encodedDataLength", 0))
            received["requests"] += 1

        cdp.on("Network.loadingFinished", finished)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        _throttle(cdp, profile)
        page.set_default_timeout(TIMEOUT_MS)
        watch.attach(page)
        page.goto(f"{url}?model={quote(name)}", wait_until="commit")
        status, first = _first_prediction(cdp)
        if status == "error":
            raise BundleError(f"variant {name} does not run in the browser: {' '.join(str(first).split())}")
        settle(page, "window.edgeshrink.galleryLoaded")
        extra = then(page) if then else None
        answered, shown = first
        return Load(round(answered, 1), None if shown is None else round(shown, 1), received["bytes"],
                    received["requests"]), extra
    finally:
        context.close()


def median_first_prediction(browser, url: str, name: str, profile: Profile, watch: Watch,
                            contexts: int) -> tuple[float, float | None]:
    """Medians over `contexts` fresh page loads: the time to first prediction, and to the frame that showed it
    (None if the browser did not report it)."""
    loads = [load_once(browser, url, name, profile, watch)[0] for _ in range(contexts)]
    shown = [load.first_shown_ms for load in loads]
    return (round(statistics.median(load.first_prediction_ms for load in loads), 1),
            None if None in shown else round(statistics.median(shown), 1))


# The floor a page's first answer stands on: a page with one script that only reports when it ran (and when
# the browser painted one character), loaded and timed like the app, in the same run.
EMPTY_PAGE = """<!doctype html><meta charset="utf-8"><title>empty</title><p><span elementtiming="t" style="display:inline-block">0</span></p>
<script>
window.edgeshrink = { timeToFirstPrediction: Promise.resolve(performance.now()), galleryLoaded: Promise.resolve(true),
  firstPredictionShown: new Promise((resolve) => new PerformanceObserver((list) => resolve(list.getEntries()[0].renderTime))
    .observe({ type: "element", buffered: true })) };
</script>
"""


def empty_page(folder: Path) -> Path:
    """A folder holding the empty page (EMPTY_PAGE) as its index.html, to time beside a bundle (with the
    manifest.json `edgeshrink serve` looks for)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(EMPTY_PAGE)
    (folder / "manifest.json").write_text('{"empty page": true}\n')
    return folder


def benchmark(page, name: str, runs: int) -> float:
    """Median milliseconds per digit of variant `name`, measured in the page."""
    result = page.evaluate("([name, runs]) => window.edgeshrink.benchmark(name, runs)", [name, runs])
    if "error" in result:
        raise BundleError(f"variant {name} failed in the browser: {' '.join(str(result['error']).split())}")
    return round(result["median_ms"], 5)
