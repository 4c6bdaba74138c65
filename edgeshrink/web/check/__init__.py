"""Checking a bundle: serve it as a static host would, open it in headless Chromium, verify its answers against
exact arithmetic in Python and time its first prediction; screenshots."""
