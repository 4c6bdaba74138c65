#!/usr/bin/env bash
# The main job end to end: set up, fetch MNIST, train LeNet-5, shrink it with the default recipe,
# bundle the result for the browser and verify it in headless Chromium. Outputs go to ./out.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${VIRTUAL_ENV:-}" ]; then . .venv/bin/activate; fi
edgeshrink data fetch
edgeshrink train --arch lenet5 -o out/lenet5.onnx
edgeshrink optimize out/lenet5.onnx --recipe default -o out/lenet5.default
edgeshrink bundle out/lenet5.default -o out/dist --verify
echo "done: serve the page with 'edgeshrink serve out/dist' and open http://127.0.0.1:8000"
