"""Fixtures of the cluster pass's tests: the prune tests' small CNN, one torch thread."""

from tests.passes.prune.conftest import cnn, one_torch_thread, trained  # noqa: F401  (shared fixtures)
