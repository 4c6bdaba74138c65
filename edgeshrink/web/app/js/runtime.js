// One model variant running on its runtime: the runtime compiled for it or onnxruntime-web (its backend,
// ./backends/ort.js, is imported only when a variant needs it: a page whose variants are all compiled never
// loads onnxruntime-web).

import * as compiled from "./compiled.js";
import { feed, prepare, readOutput } from "./signature.js";

/** The runtime's own message, whatever it threw (onnxruntime-web sometimes throws plain strings). */
export const reason = (err) => err?.message || String(err);

/**
 * `variant` loaded on its runtime; `manifest` says where the runtimes are, `fetchBytes(path)` gets files,
 * `started` is what index.html already began loading for it (compiled: { model }), or null.
 * { variant, backend, fed (the variant as fed), run(pixels, n) }: run gives { predictions, scores, ms } of one
 * run of n images (Uint8Array n*784), n no more than one run takes (./later.js cuts more into runs).
 */
export async function loadModel(variant, manifest, fetchBytes, started) {
  // the compiled backend is part of the page (small); onnxruntime-web's, which runs any other variant, is
  // fetched from the document's folder (this code runs from inside index.html)
  const runtime = variant.runtime === "compiled" ? compiled
    : await import(new URL("js/backends/ort.js", document.baseURI).href);
  const [backend] = await Promise.all([runtime.open(variant, manifest, fetchBytes, started), prepare(variant)]);
  // a compiled model takes one image per run: a fixed batch is fed as a batch of one
  const fed = backend.oneImage && variant.batch ? { ...variant, batch: 1 } : variant;
  return {
    variant, backend, fed,
    async run(pixels, n) {
      const [type, data, dims] = feed(fed, pixels, n);
      const t0 = performance.now();
      const output = await backend.run(type, data, dims);
      return { ...readOutput(variant, output, n), ms: performance.now() - t0 };
    },
  };
}
