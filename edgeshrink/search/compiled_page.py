"""Measure a model compiled by edgeshrink's runtime in headless Chromium: a minimal page that loads the
compiled module (wasm + mjs, the model inside), classifies real test digits, and reports its time to first
prediction and per-digit latency, on localhost and on emulated phone networks.

The page has no app around it (the bundle's page runs onnxruntime-web), so its first visit is the compiled
runtime plus one digit: the bytes the search counts for a compiled model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeshrink.errors import SearchError
from edgeshrink.signature import Signature

DIGITS = 300
PAGE = """<!doctype html><meta charset="utf-8"><title>edgeshrink compiled runtime timing</title>
<script type="module">
const result = {};
window.edgeshrinkTiming = (async () => {
  // what a first visit needs: the module, its wasm and one digit (the rest comes after, for checking)
  const one = fetch("first.bin").then((r) => r.arrayBuffer());
  const { load } = await import("./model.mjs");
  const model = await load("model.wasm");
  const Types = { float32: Float32Array, float64: Float64Array, uint8: Uint8Array };
  const argmax = (s) => s.reduce((best, v, i) => (v > s[best] ? i : best), 0);
  const first = argmax(model.run(new Types[model.inputType](await one)));
  result.first_prediction_ms = performance.now();
  const [feed, meta] = await Promise.all([fetch("digits.bin").then((r) => r.arrayBuffer()),
                                          fetch("digits.json").then((r) => r.json())]);
  const all = new Types[meta.dtype](feed);
  const len = model.inputLength;
  const image = (i) => all.subarray(i * len, (i + 1) * len);
  result.predictions = [first];
  for (let i = 1; i < meta.count; i++) result.predictions.push(argmax(model.run(image(i))));
  const times = [];
  for (let r = 0; r < 200; r++) { const t = performance.now(); model.run(image(r % meta.count)); times.push(performance.now() - t); }
  times.sort((a, b) => a - b);
  result.latency_ms = times[100];
  return result;
})();
</script>
"""


@dataclass(frozen=True)
class CompiledCheck:
    agreement: float  # share of digits where the browser's answer equals onnxruntime's in Python
    latency_ms: float
    first_prediction_ms: dict[str, float]


def write_page(folder: Path, compiled, signature: Signature, pixels: np.ndarray) -> Path:
    """The timing page and the compiled files in `folder` (an output folder of the search)."""
    from edgeshrink.runtime.node import feed_images

    folder.mkdir(parents=True, exist_ok=True)
    for name, data in compiled.files.items():
        (folder / name).write_bytes(data)
    feed = np.ascontiguousarray(feed_images(signature, pixels))
    (folder / "digits.bin").write_bytes(feed.tobytes())
    (folder / "first.bin").write_bytes(feed[0].tobytes())
    (folder / "digits.json").write_text(json.dumps({"dtype": str(feed.dtype), "count": len(pixels)}))
    (folder / "index.html").write_text(PAGE)
    (folder / "manifest.json").write_text(json.dumps({"generator": "edgeshrink search timing page"}))
    return folder


def measure(folder: Path, expected: np.ndarray, profiles: list[str], browser) -> CompiledCheck:
    """Open the page once per profile on a cold cache; the localhost run also checks the answers."""
    from edgeshrink.search.brotli_serve import running_brotli
    from edgeshrink.search.network import PROFILES, open_emulated
    from edgeshrink.web.browser import Watch, settle

    firsts, latency, agreement = {}, None, None
    with running_brotli(folder) as url:
        watch = Watch(url)
        for name in profiles:
            context = browser.new_context()
            try:
                page = open_emulated(context, url, watch, PROFILES[name])
                status, value = settle(page, "window.edgeshrinkTiming")
            finally:
                context.close()
            if status == "error":
                raise SearchError(f"the compiled model failed in Chromium ({name}): {value}")
            firsts[name] = round(float(value["first_prediction_ms"]), 1)
            if latency is None or name == "localhost":
                latency = round(float(value["latency_ms"]), 5)
                agreement = float((np.asarray(value["predictions"]) == expected).mean())
        watch.check()
    return CompiledCheck(agreement, latency, firsts)
