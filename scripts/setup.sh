#!/usr/bin/env bash
# Set up edgeshrink on a fresh machine (Python 3.11, Node 20): a virtual environment in .venv with the CPU build of
# torch and the package with its browser extra and test tools. pip brings everything edgeshrink itself needs,
# the compiled runtime's compiler (ziglang) and its in-process runner (wasmtime) included. This script adds only
# what pip cannot bring, for the tests and `bundle --verify`: Debian's Chromium, PostgreSQL's binaries, QEMU
# user-mode emulation, and onnxruntime-web from npm in the user cache
# (~/.cache/edgeshrink/onnxruntime-web/<version>, what `bundle` would fetch the first time it needs it).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi
python -m pip install --quiet --upgrade pip
# torch first and pinned: unpinned, pip would pull the CUDA build (several GB) as a dependency.
python -m pip install --quiet torch==2.13.0
python -m pip install --quiet -e ".[browser,search,test]"

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
if [ "${EDGESHRINK_SKIP_BROWSER:-0}" != 1 ]; then
  if ! command -v chromium >/dev/null 2>&1; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  fi
  # npm ci of the page's pinned onnxruntime-web into the user cache (what 'edgeshrink bundle' would do)
  python -c "from edgeshrink.web.assemble.ortweb import ensure_runtime; print('onnxruntime-web', ensure_runtime().version)"
fi
# PostgreSQL: the search tests start a private server from its binaries (no system service is used).
if [ "${EDGESHRINK_SKIP_POSTGRES:-0}" != 1 ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
# QEMU user-mode emulation: tests/test_cpu_paths.py runs the int8 exactness tests under CPU models whose
# onnxruntime kernels differ (AVX2 without VNNI, SSE4.2). --no-install-recommends: no binfmt registrations.
if [ "${EDGESHRINK_SKIP_QEMU:-0}" != 1 ] && [ "$(uname -m)" = x86_64 ] && ! command -v qemu-x86_64 >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends qemu-user >/dev/null
fi
echo "edgeshrink is set up in ${VIRTUAL_ENV}: activate it with '. .venv/bin/activate'"
