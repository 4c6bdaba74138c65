"""Driving Chromium: without the browser extra, one line that names it."""

import sys

import pytest

from edgeshrink.errors import BundleError
from edgeshrink.web.check.browser import chromium


def test_missing_playwright_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)  # import raises ImportError
    with pytest.raises(BundleError, match=r"needs Playwright, which is not installed; pip install 'edgeshrink\[browser\]'"):
        with chromium():
            pass
