"""Fixtures of the search tests: a real PostgreSQL server, and cheap search options."""

from __future__ import annotations

import pytest

from tests.search import postgres


@pytest.fixture(scope="session")
def postgres_url():
    if postgres.binaries() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install -y postgresql)")
    with postgres.server() as url:
        yield url


# Cheap trials: no fine-tuning, few validation images, no landmark recipes.
CHEAP = ["--space", "quantize", "--val-images", "200", "--references", "", "--heartbeat", "2"]
