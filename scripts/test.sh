#!/usr/bin/env bash
# Set up (see setup.sh), lint (ruff, configured in pyproject.toml), then run the whole test suite on real MNIST
# (fetched once into the user cache).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${VIRTUAL_ENV:-}" ]; then . .venv/bin/activate; fi
python -m ruff check .
python -m pytest "$@"
