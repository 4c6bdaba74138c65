"""The browser side: bundle models with the web app, serve the bundle, verify it in headless Chromium."""

from edgeshrink.size import Size
from edgeshrink.web.assemble.bundle import BundleResult, Variant, bundle
from edgeshrink.web.check.browser import find_chromium
from edgeshrink.web.check.screenshot import digit_strokes, screenshot
from edgeshrink.web.check.serve import make_server, running, serve
from edgeshrink.web.check.verify import VariantCheck, VerifyResult, verify

__all__ = [
    "BundleResult", "Size", "Variant", "VariantCheck", "VerifyResult", "bundle", "digit_strokes",
    "find_chromium", "make_server", "running", "screenshot", "serve", "verify",
]
