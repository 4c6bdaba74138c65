// One model variant running on its runtime: the runtime compiled for it or onnxruntime-web. Each runtime is
// a backend module in ./backends/, imported only when a variant needs it (a page whose variants are all
// compiled never loads onnxruntime-web).

import { feed, readOutput, runSize } from "./signature.js";

const BACKENDS = { compiled: () => import("./backends/compiled.js"), ort: () => import("./backends/ort.js") };

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
   * `started` is what index.html already began loading for it (compiled: { backend, loader, wasm } promises),
   * or null.
   */
  static async create(variant, manifest, fetchBytes, started = null) {
    const load = BACKENDS[variant.runtime ?? "ort"];
    if (!load) throw new Error(`model ${variant.name}: unknown runtime ${variant.runtime}`);
    const backend = await (await (started?.backend ?? load())).open(variant, manifest, fetchBytes, started);
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

  /**
   * Median milliseconds per inference of one image, over `groups` groups of runs (at least `runs` runs in
   * all). A group runs long enough (`groupMs`) that the clock's grain does not matter: performance.now()
   * is coarse (0.1 ms, jittered) on pages that are not cross-origin isolated, as on most static hosts.
   */
  async benchmark(pixels, runs = 200, groups = 20, groupMs = 2) {
    const [type, data, dims] = feed(this.fed, pixels, 1);
    const timed = async (count) => {
      const t0 = performance.now();
      for (let i = 0; i < count; i++) await this.backend.run(type, data, dims);
      return performance.now() - t0;
    };
    // warm up (the first runs compile and fill caches) for 5 groups' time before sizing the groups
    for (let spent = 0; spent < 5 * groupMs;) spent += await timed(5);
    // sized by the shortest of three timings: a pause (garbage collection, another tab) cannot shrink the groups
    const shortest = async (count) => Math.min(await timed(count), await timed(count), await timed(count));
    let group = Math.max(1, Math.ceil(runs / groups));
    while ((await shortest(group)) < groupMs) group *= 2;
    const perRun = [];
    for (let g = 0; g < groups; g++) perRun.push((await timed(group)) / group);
    perRun.sort((a, b) => a - b);
    const mid = perRun.length >> 1;
    const median = perRun.length % 2 ? perRun[mid] : (perRun[mid - 1] + perRun[mid]) / 2;
    return { median_ms: median, runs: perRun.length * group, group, runtime: this.variant.runtime };
  }
}
