// One model variant running on its runtime: the runtime compiled for it or onnxruntime-web (its backend,
// ./backends/ort.js, is imported only when a variant needs it: a page whose variants are all compiled never
// loads onnxruntime-web).

import * as compiled from "./compiled.js";
import { feed, prepare, readOutput, runSize } from "./signature.js";

// The compiled backend is part of the page (small); onnxruntime-web's is fetched when a variant needs it,
// from the document's folder: this code runs from inside index.html.
const BACKENDS = { compiled: () => compiled, ort: () => import(new URL("js/backends/ort.js", document.baseURI).href) };

/** The runtime's own message, whatever it threw (onnxruntime-web sometimes throws plain strings). */
export function reason(err) {
  return (err && err.message) || String(err);
}

export class Model {
  constructor(variant, backend) {
    this.variant = variant;
    this.backend = backend;
    // a compiled model takes one image per run; onnxruntime-web takes what the model's batch allows
    this.step = backend.oneImage ? 1 : runSize(variant);
    this.fed = backend.oneImage && variant.batch ? { ...variant, batch: 1 } : variant;
  }

  /**
   * Load `variant` on its runtime; `manifest` says where the runtimes are, `fetchBytes(path)` gets files,
   * `started` is what index.html already began loading for it (compiled: { loader, wasm } promises), or null.
   */
  static async create(variant, manifest, fetchBytes, started = null) {
    const load = BACKENDS[variant.runtime ?? "ort"];
    if (!load) throw new Error(`model ${variant.name}: unknown runtime ${variant.runtime}`);
    const [backend] = await Promise.all([(await load()).open(variant, manifest, fetchBytes, started), prepare(variant)]);
    return new Model(variant, backend);
  }

  /** Predictions and raw scores for n images (Uint8Array n*784), cut into runs the model accepts. */
  async classify(pixels, n) {
    const step = Math.min(this.step, n);
    const predictions = [];
    const scores = [];
    let ms = 0;
    for (let start = 0; start < n; start += step) {
      const count = Math.min(step, n - start);
      const [type, data, dims] = feed(this.fed, pixels.subarray(start * 784, (start + count) * 784), count);
      const t0 = performance.now();
      const output = await this.backend.run(type, data, dims);
      ms += performance.now() - t0;
      const result = readOutput(this.variant, output, count);
      predictions.push(...result.predictions);
      if (result.scores) scores.push(...result.scores);
    }
    return { predictions, scores: scores.length ? scores : null, ms };
  }

  /** One image (784 pixels) fed once: run() classifies it again (for timing). */
  prepared(pixels) {
    const [type, data, dims] = feed(this.fed, pixels, 1);
    return () => this.backend.run(type, data, dims);
  }
}
